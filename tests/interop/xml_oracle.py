#!/usr/bin/env python3
"""Independent XML checks with lxml (libxml2):

  xml_oracle.py c14n    stdin: JSON list of XML documents
                        stdout: JSON list of their Exclusive XML Canonicalization (no comments)
  xml_oracle.py schema  stdin: JSON list of XML documents
                        stdout: JSON list of schema errors per document ([] = valid) against the
                        OASIS SAML 2.0 protocol, assertion and metadata schemas and the metadata
                        algorithm-support schema, as python3-saml ships them

Python's xml.etree canonicalize() is C14N 2.0, not exclusive c14n 1.0: lxml is the oracle here.
"""

import json
import os
import sys

from lxml import etree


def c14n(documents):
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return [
        etree.tostring(etree.fromstring(doc.encode(), parser), method="c14n", exclusive=True, with_comments=False).decode()
        for doc in documents
    ]


def schema(documents):
    import onelogin.saml2

    directory = os.path.join(os.path.dirname(onelogin.saml2.__file__), "schemas")
    imports = {
        "urn:oasis:names:tc:SAML:2.0:protocol": "saml-schema-protocol-2.0.xsd",
        "urn:oasis:names:tc:SAML:2.0:metadata": "saml-schema-metadata-2.0.xsd",
        "urn:oasis:names:tc:SAML:metadata:algsupport": "sstc-saml-metadata-algsupport-v1.0.xsd",
    }
    wrapper = '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:sesame:oracle">%s</xs:schema>' % "".join(
        '<xs:import namespace="%s" schemaLocation="%s"/>' % (ns, os.path.join(directory, name)) for ns, name in imports.items()
    )
    validator = etree.XMLSchema(etree.fromstring(wrapper.encode(), base_url=directory + "/"))
    results = []
    for doc in documents:
        valid = validator.validate(etree.fromstring(doc.encode()))
        results.append([] if valid else [str(error) for error in validator.error_log])
    return results


if __name__ == "__main__":
    documents = json.load(sys.stdin)
    json.dump({"c14n": c14n, "schema": schema}[sys.argv[1]](documents), sys.stdout)
