#!/usr/bin/env python3
"""A publisher's service provider, played by an independent SAML library, receiving a response
Sesame issued. Both libraries are configured from Sesame's published IdP metadata, in strict mode,
requiring a signed response and a signed assertion.

usage: publisher_sp.py python3-saml|pysaml2 verify|metadata|request < input.json

verify    stdin: {"idp_metadata", "saml_response" (base64), "sp_entity_id", "acs_url",
                  "request_id" (or null for IdP-initiated), "xmlsec1" (path, for pysaml2),
                  "response_signed" (default true; false: only the assertion must be signed)}
          stdout: {"accepted": bool, "name_id", "attributes": {name: [values]}, "error"}
metadata  stdin: {"sp_entity_id", "acs_url", "cert_pem", "key_pem", "xmlsec1"}
          stdout: {"metadata": the SP metadata the library generates}
request   stdin: the metadata input plus {"idp_metadata", "relay_state"}
          stdout: a signed AuthnRequest: python3-saml by HTTP-Redirect {"id", "url"},
                  pysaml2 by HTTP-POST {"id", "saml_request", "relay_state"}
"""

import base64
import json
import os
import sys
import tempfile
import urllib.parse

POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def onelogin_settings(params, idp=None):
    """python3-saml settings for a signing SP (metadata and requests)."""
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    settings = {
        "strict": True,
        "sp": {
            "entityId": params["sp_entity_id"],
            "assertionConsumerService": {"url": params["acs_url"], "binding": POST},
            "x509cert": params["cert_pem"],
            "privateKey": params["key_pem"],
        },
        "security": {
            "authnRequestsSigned": True,
            "wantAssertionsSigned": True,
            "signatureAlgorithm": RSA_SHA256,
            "digestAlgorithm": SHA256,
        },
    }
    if idp is not None:
        settings["idp"] = idp
        return settings
    return OneLogin_Saml2_Settings(settings, sp_validation_only=True)


def pysaml2_client(params, key_dir):
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    key_file, cert_file = os.path.join(key_dir, "sp.key"), os.path.join(key_dir, "sp.pem")
    with open(key_file, "w") as f:
        f.write(params["key_pem"])
    with open(cert_file, "w") as f:
        f.write(params["cert_pem"])
    config = SPConfig()
    config.load(
        {
            "entityid": params["sp_entity_id"],
            "metadata": {"inline": [params["idp_metadata"]]} if params.get("idp_metadata") else {},
            "key_file": key_file,
            "cert_file": cert_file,
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(params["acs_url"], POST)]},
                    "authn_requests_signed": True,
                    "want_assertions_signed": True,
                }
            },
            "xmlsec_binary": params["xmlsec1"],
        }
    )
    return Saml2Client(config=config), config


def metadata(engine, params):
    if engine == "python3-saml":
        return {"metadata": onelogin_settings(params).get_sp_metadata().decode()}
    from saml2.metadata import create_metadata_string

    with tempfile.TemporaryDirectory() as key_dir:
        _, config = pysaml2_client(params, key_dir)
        return {"metadata": create_metadata_string(None, config=config, valid=24).decode()}


def request(engine, params):
    if engine == "python3-saml":
        from onelogin.saml2.auth import OneLogin_Saml2_Auth
        from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

        idp = OneLogin_Saml2_IdPMetadataParser.parse(params["idp_metadata"])["idp"]
        acs = urllib.parse.urlsplit(params["acs_url"])
        auth = OneLogin_Saml2_Auth(
            {"https": "on", "http_host": acs.hostname, "script_name": "/login", "get_data": {}, "post_data": {}},
            onelogin_settings(params, idp),
        )
        url = auth.login(return_to=params["relay_state"])
        return {"id": auth.get_last_request_id(), "url": url}
    from saml2 import BINDING_HTTP_POST

    with tempfile.TemporaryDirectory() as key_dir:
        client, _ = pysaml2_client(params, key_dir)
        destination = client.metadata.single_sign_on_service(
            client.metadata.identity_providers()[0], BINDING_HTTP_POST
        )[0]["location"]
        request_id, xml = client.create_authn_request(destination, sign=True, sign_alg=RSA_SHA256, digest_alg=SHA256)
        return {
            "id": request_id,
            "saml_request": base64.b64encode(str(xml).encode()).decode(),
            "relay_state": params["relay_state"],
        }


def python3_saml(params):
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
    from onelogin.saml2.response import OneLogin_Saml2_Response
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    idp = OneLogin_Saml2_IdPMetadataParser.parse(params["idp_metadata"])["idp"]
    settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": params["sp_entity_id"],
                "assertionConsumerService": {
                    "url": params["acs_url"],
                    "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                },
                "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            },
            "idp": idp,
            "security": {
                "wantAssertionsSigned": True,
                "wantMessagesSigned": params.get("response_signed", True),
                "rejectDeprecatedAlgorithm": True,
            },
        },
        sp_validation_only=True,
    )
    acs = urllib.parse.urlsplit(params["acs_url"])
    # What the SP's web framework would report for the POST to its ACS (Destination is checked against it).
    request_data = {
        "https": "on" if acs.scheme == "https" else "off",
        "http_host": acs.hostname,
        "server_port": acs.port or (443 if acs.scheme == "https" else 80),
        "script_name": acs.path,
        "get_data": {},
        "post_data": {"SAMLResponse": params["saml_response"]},
    }
    response = OneLogin_Saml2_Response(settings, params["saml_response"])
    response.is_valid(request_data, request_id=params.get("request_id"), raise_exceptions=True)
    return response.get_nameid(), response.get_attributes()


def pysaml2(params):
    from saml2 import BINDING_HTTP_POST
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    config = SPConfig()
    config.load(
        {
            "entityid": params["sp_entity_id"],
            "metadata": {"inline": [params["idp_metadata"]]},
            "service": {
                "sp": {
                    "endpoints": {"assertion_consumer_service": [(params["acs_url"], BINDING_HTTP_POST)]},
                    "allow_unsolicited": params.get("request_id") is None,
                    "want_response_signed": params.get("response_signed", True),
                    "want_assertions_signed": True,
                }
            },
            "xmlsec_binary": params["xmlsec1"],
            "allow_unknown_attributes": True,
            "accepted_time_diff": 60,
        }
    )
    client = Saml2Client(config=config)
    outstanding = {params["request_id"]: "/"} if params.get("request_id") else {}
    response = client.parse_authn_request_response(params["saml_response"], BINDING_HTTP_POST, outstanding=outstanding)
    if response is None:
        raise ValueError("pysaml2 returned no response")
    return response.name_id.text, response.get_identity()


def main():
    engine_name, action = sys.argv[1], sys.argv[2]
    params = json.load(sys.stdin)
    if action == "metadata":
        json.dump(metadata(engine_name, params), sys.stdout)
        return
    if action == "request":
        json.dump(request(engine_name, params), sys.stdout)
        return
    engine = {"python3-saml": python3_saml, "pysaml2": pysaml2}[engine_name]
    try:
        name_id, attributes = engine(params)
        result = {"accepted": True, "name_id": name_id, "attributes": attributes, "error": None}
    except Exception as error:  # every refusal, whatever the library calls it
        result = {"accepted": False, "name_id": None, "attributes": {}, "error": f"{type(error).__name__}: {error}"}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
