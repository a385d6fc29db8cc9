#!/usr/bin/env python3
"""SATOSA's cost of the step Sesame's `saml_sign` bench measures: its SAML frontend (pysaml2 IdP)
turning an authenticated user into a signed Response for a service provider — attribute
filtering and mapping, a persistent NameID, the Response built, the Assertion and the Response
signed (RSA-SHA256, RSA-2048, pysaml2's default xmlsec1 backend), the HTTP-POST page rendered.

It runs SATOSA in-process, without HTTP, state cookies or the backend's verification of the
ENT's response, so it understates what a SATOSA launch costs: the multiple it gives Sesame is a
lower bound. One thread, like the Rust bench.

usage: satosa_bench.py SECONDS   (prints JSON: {"satosa_responses_per_second": …, "iterations": …})
"""

import base64
import datetime
import json
import os
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from satosa.context import Context
from satosa.frontends.saml2 import SAMLFrontend
from satosa.internal import AuthenticationInformation, InternalData
from satosa.state import State

BASE = "https://satosa.test"
SP_ENTITY = "https://publisher.test/sp"
SP_ACS = "https://publisher.test/saml/acs"
ATTRIBUTES = {
    "IDO": "9f" * 64,
    "UAI": "0990001N",
    "PRO": "National_elv",
    "NOM": "Lefèvre",
    "PRE": "Zoé",
    "DIV": "3A##3ème A",
}


def key_files(directory, name):
    key = rsa.generate_private_key(65537, 2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = os.path.join(directory, name + ".key"), os.path.join(directory, name + ".pem")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    directory = tempfile.mkdtemp()
    idp_key, idp_cert = key_files(directory, "idp")
    sp_key, sp_cert = key_files(directory, "sp")

    sp_config = SPConfig()
    sp_config.load(
        {
            "entityid": SP_ENTITY,
            "key_file": sp_key,
            "cert_file": sp_cert,
            "service": {"sp": {"endpoints": {"assertion_consumer_service": [(SP_ACS, BINDING_HTTP_POST)]}}},
        }
    )
    sp_metadata = create_metadata_string(None, config=sp_config, valid=24).decode()

    internal_attributes = {"attributes": {name.lower(): {"saml": [name]} for name in ATTRIBUTES}}
    frontend_config = {
        "idp_config": {
            "entityid": BASE + "/idp",
            "key_file": idp_key,
            "cert_file": idp_cert,
            "metadata": {"inline": [sp_metadata]},
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": []},
                    "name_id_format": ["urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"],
                    "policy": {
                        "default": {
                            "attribute_restrictions": None,
                            "fail_on_missing_requested": False,
                            "lifetime": {"minutes": 5},
                            "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
                            "sign_assertion": True,
                            "sign_response": True,
                        }
                    },
                }
            },
        },
        "endpoints": {"single_sign_on_service": {BINDING_HTTP_POST: "sso/post", BINDING_HTTP_REDIRECT: "sso/redirect"}},
    }
    frontend = SAMLFrontend(lambda context, internal: internal, internal_attributes, frontend_config, BASE, "Saml2IDP")
    frontend.register_endpoints(["Saml2"])

    # One SP-initiated request, parsed once by the frontend: its state is what each launch resumes.
    client_config = SPConfig()
    client_config.load(
        {
            "entityid": SP_ENTITY,
            "key_file": sp_key,
            "cert_file": sp_cert,
            "metadata": {"inline": [frontend_metadata(frontend)]},
            "service": {"sp": {"endpoints": {"assertion_consumer_service": [(SP_ACS, BINDING_HTTP_POST)]}}},
        }
    )
    client = Saml2Client(config=client_config)
    _, request = client.create_authn_request(BASE + "/Saml2/sso/post", binding=BINDING_HTTP_POST)
    context = Context()
    context.state = State()
    context.request = {"SAMLRequest": base64.b64encode(str(request).encode()).decode(), "RelayState": "r"}
    frontend.handle_authn_request(context, BINDING_HTTP_POST)
    request_state = dict(context.state[frontend.name])

    def launch():
        context = Context()
        context.state = State()
        context.state[frontend.name] = dict(request_state)
        internal = InternalData(
            auth_info=AuthenticationInformation("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                                                datetime.datetime.now(datetime.timezone.utc).isoformat(), "https://ent.test/idp"),
            subject_id=ATTRIBUTES["IDO"],
            subject_type="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            attributes={name.lower(): [value] for name, value in ATTRIBUTES.items()},
        )
        response = frontend.handle_authn_response(context, internal)
        assert "SAMLResponse" in response.message
        return response

    first = launch().message
    document = base64.b64decode(first.split('name="SAMLResponse" value="')[1].split('"')[0]).decode()
    assert document.count("SignatureValue>") == 4, "a signed Response and a signed Assertion"
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        launch()
        count += 1
    elapsed = time.perf_counter() - start
    json.dump({"satosa_responses_per_second": count / elapsed, "iterations": count}, sys.stdout)
    print()


def frontend_metadata(frontend):
    from saml2.metadata import entity_descriptor

    return str(entity_descriptor(frontend.idp.config))


if __name__ == "__main__":
    main()
