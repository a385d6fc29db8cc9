#!/usr/bin/env python3
"""An ENT identity provider played by signxml (lxml + cryptography), independent of Sesame.

It reads Sesame's AuthnRequest the way an IdP does (the HTTP-Redirect URL: inflate, parse, check
the query-string signature against the certificate in Sesame's SP metadata), then answers with
SAML responses signed like a real ENT's (RSA-SHA256, exclusive c14n, xsi:type="xs:string" values
kept by an InclusiveNamespaces PrefixList, the Signature after the Issuer), plus the hostile
variants Sesame must refuse: XSW1-XSW8 (the SAMLRaider permutations), unsigned, wrong key,
expired, wrong audience, DTD-bearing, and more.

stdin (JSON): {"authn_request_url", "sp_metadata", "console_entity_id", "console_acs_url",
               "id_ent", "gar_person_id", "idp_entity_id", "key_file" (optional)}
               Without authn_request_url, the responses are unsolicited ones to the console.
               With key_file, the IdP's keys are kept there, so several runs are one IdP.
stdout (JSON): {"metadata": IdP metadata XML,
                "request": {"id", "issuer", "acs_url", "signed", "signature_ok"},
                "responses": {variant: base64 SAMLResponse},
                "xmlsec_signature_ok": {variant: bool}}  (python-xmlsec on the first Signature)
"""

import base64
import copy
import datetime
import json
import sys
import urllib.parse
import uuid
import zlib

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureReference, XMLSigner, methods

P = "urn:oasis:names:tc:SAML:2.0:protocol"
A = "urn:oasis:names:tc:SAML:2.0:assertion"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


def q(ns, name):
    return "{%s}%s" % (ns, name)


def instant(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id():
    return "_" + uuid.uuid4().hex


def key_pair(kind, name):
    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


def cert_body(pem):
    return "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)


def read_request(url, sp_metadata):
    """Decodes Sesame's redirect AuthnRequest and checks its query signature like an IdP would."""
    query = urllib.parse.urlsplit(url).query
    raw = dict(pair.split("=", 1) for pair in query.split("&"))
    xml = zlib.decompress(base64.b64decode(urllib.parse.unquote_plus(raw["SAMLRequest"])), -15)
    request = etree.fromstring(xml)
    signed = "Signature" in raw
    signature_ok = False
    if signed:
        octets = "&".join(f"{k}={raw[k]}" for k in ("SAMLRequest", "RelayState", "SigAlg") if k in raw)
        assert urllib.parse.unquote_plus(raw["SigAlg"]) == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        metadata = etree.fromstring(sp_metadata.encode())
        for text in metadata.iterfind(".//" + q(DS, "X509Certificate")):
            cert = x509.load_der_x509_certificate(base64.b64decode(text.text))
            try:
                cert.public_key().verify(
                    base64.b64decode(urllib.parse.unquote_plus(raw["Signature"])),
                    octets.encode(),
                    padding.PKCS1v15(),
                    hashes.SHA256(),
                )
                signature_ok = True
            except Exception:
                pass
    return {
        "id": request.get("ID"),
        "issuer": request.findtext(q(A, "Issuer")),
        "acs_url": request.get("AssertionConsumerServiceURL"),
        "destination": request.get("Destination"),
        "signed": signed,
        "signature_ok": signature_ok,
    }


def pem_key(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class IdP:
    KEYS = (("rsa", "rsa", "ENT IdP signing"), ("ec", "ec", "ENT IdP signing (ECDSA)"), ("other", "rsa", "ENT IdP encryption"))

    def __init__(self, entity_id, key_file=None):
        """Fresh keys, or those kept in key_file (created on first use) so that several runs are
        the same registered IdP."""
        self.entity_id = entity_id
        kept = None
        if key_file:
            try:
                with open(key_file) as f:
                    kept = json.load(f)
            except FileNotFoundError:
                pass
        for name, kind, label in self.KEYS:
            if kept:
                key = serialization.load_pem_private_key(kept[name]["key"].encode(), None)
                cert = kept[name]["cert"]
            else:
                key, cert = key_pair(kind, label)
            setattr(self, name + "_key", key)
            setattr(self, name + "_cert", cert)
        # The "other" key is published for encryption only: a signature made with it must not be trusted.
        if key_file and not kept:
            with open(key_file, "w") as f:
                json.dump({name: {"key": pem_key(getattr(self, name + "_key")), "cert": getattr(self, name + "_cert")}
                           for name, _, _ in self.KEYS}, f)

    def metadata(self):
        """Shibboleth-shaped metadata: signing and encryption keys, several SSO bindings."""
        md = etree.Element(q(MD, "EntityDescriptor"), nsmap={"md": MD, "ds": DS}, entityID=self.entity_id)
        idp = etree.SubElement(
            md,
            q(MD, "IDPSSODescriptor"),
            protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol " + P,
            WantAuthnRequestsSigned="true",
        )
        for use, pem in (("signing", self.rsa_cert), (None, self.ec_cert), ("encryption", self.other_cert)):
            descriptor = etree.SubElement(idp, q(MD, "KeyDescriptor"), **({"use": use} if use else {}))
            data = etree.SubElement(etree.SubElement(descriptor, q(DS, "KeyInfo")), q(DS, "X509Data"))
            body = cert_body(pem)
            etree.SubElement(data, q(DS, "X509Certificate")).text = "\n" + "\n".join(
                body[i : i + 64] for i in range(0, len(body), 64)
            ) + "\n"
        etree.SubElement(idp, q(MD, "NameIDFormat")).text = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
        base = self.entity_id.rsplit("/", 1)[0]
        etree.SubElement(idp, q(MD, "SingleSignOnService"), Binding=POST, Location=base + "/SSO/POST")
        etree.SubElement(idp, q(MD, "SingleSignOnService"), Binding=REDIRECT, Location=base + "/SSO/Redirect")
        return '<?xml version="1.0" encoding="UTF-8"?>\n<!-- ENT test IdP -->\n' + etree.tostring(
            md, pretty_print=True
        ).decode()


def assertion(idp, *, audience, recipient, request_id, id_ent, gar, now, lifetime=300, not_before=None, issued=None):
    issued = issued or now
    a = etree.Element(
        q(A, "Assertion"),
        nsmap={"saml": A, "xs": XS, "xsi": XSI},
        ID=new_id(),
        IssueInstant=instant(issued),
        Version="2.0",
    )
    etree.SubElement(a, q(A, "Issuer")).text = idp.entity_id
    subject = etree.SubElement(a, q(A, "Subject"))
    etree.SubElement(
        subject,
        q(A, "NameID"),
        Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        NameQualifier=idp.entity_id,
        SPNameQualifier=audience,
    ).text = "_" + uuid.uuid4().hex
    confirmation = etree.SubElement(subject, q(A, "SubjectConfirmation"), Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    data = etree.SubElement(
        confirmation, q(A, "SubjectConfirmationData"), NotOnOrAfter=instant(issued + datetime.timedelta(seconds=lifetime)), Recipient=recipient
    )
    if request_id:
        data.set("InResponseTo", request_id)
    conditions = etree.SubElement(
        a,
        q(A, "Conditions"),
        NotBefore=instant(not_before or issued - datetime.timedelta(seconds=30)),
        NotOnOrAfter=instant(issued + datetime.timedelta(seconds=lifetime)),
    )
    etree.SubElement(etree.SubElement(conditions, q(A, "AudienceRestriction")), q(A, "Audience")).text = audience
    authn = etree.SubElement(a, q(A, "AuthnStatement"), AuthnInstant=instant(issued), SessionIndex=new_id())
    etree.SubElement(
        etree.SubElement(authn, q(A, "AuthnContext")), q(A, "AuthnContextClassRef")
    ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    statement = etree.SubElement(a, q(A, "AttributeStatement"))
    for name, value in (("idEnt", id_ent), ("GARPersonIdentifiant", gar)):
        attribute = etree.SubElement(statement, q(A, "Attribute"), Name=name, NameFormat=BASIC)
        etree.SubElement(attribute, q(A, "AttributeValue"), {q(XSI, "type"): "xs:string"}).text = value
    return a


def response(idp, inner, *, destination, request_id, status=SUCCESS):
    r = etree.Element(
        q(P, "Response"),
        nsmap={"samlp": P, "saml": A},
        ID=new_id(),
        IssueInstant=inner.get("IssueInstant"),
        Version="2.0",
        Destination=destination,
    )
    if request_id:
        r.set("InResponseTo", request_id)
    etree.SubElement(r, q(A, "Issuer")).text = idp.entity_id
    etree.SubElement(etree.SubElement(r, q(P, "Status")), q(P, "StatusCode"), Value=status)
    r.append(inner)
    return r


class EntSigner(XMLSigner):
    """signxml's XMLSigner with two adjustments an ENT needs. (1) signxml 5.2.0 digests an
    enveloped reference with its InclusiveNamespaces PrefixList but does not write the list into
    the Transform, so no verifier could reproduce the digest: write it. (2) SHA-1 is refused by
    default; an old ENT may still use it (the `sha1` variant)."""

    allow_sha1 = False

    def check_deprecated_methods(self):
        if not self.allow_sha1:
            super().check_deprecated_methods()

    def _build_transforms_for_reference(self, *, transforms_node, reference, exclude_c14n_transform_element=True):
        super()._build_transforms_for_reference(
            transforms_node=transforms_node, reference=reference, exclude_c14n_transform_element=exclude_c14n_transform_element
        )
        c14n = transforms_node[-1]
        if reference.inclusive_ns_prefixes and c14n.get("Algorithm") == EXC_C14N:
            etree.SubElement(c14n, q(EXC_C14N, "InclusiveNamespaces"), nsmap={"ec": EXC_C14N}).set(
                "PrefixList", " ".join(reference.inclusive_ns_prefixes)
            )


def sign(element, key, cert, algorithm="rsa-sha256", reference_id=None, placeholder_in=None):
    """Enveloped signature after the Issuer of `placeholder_in` (default: the element itself)."""
    element = copy.deepcopy(element)
    holder = element if placeholder_in is None else element.find(".//" + q(A, placeholder_in))
    holder.find(q(A, "Issuer")).addnext(etree.Element(q(DS, "Signature"), Id="placeholder", nsmap={"ds": DS}))
    EntSigner.allow_sha1 = "sha1" in algorithm
    signer = EntSigner(method=methods.enveloped, signature_algorithm=algorithm, digest_algorithm="sha256", c14n_algorithm=EXC_C14N)
    signer.namespaces = {"ds": DS}
    reference = SignatureReference(URI="#" + (reference_id or element.get("ID")), inclusive_ns_prefixes=["xs"])
    return signer.sign(element, key=key, cert=cert, reference_uri=[reference])


def encode(tree, prefix=b""):
    return base64.b64encode(prefix + etree.tostring(tree)).decode()


def set_gar(tree, value):
    for attribute in tree.iter(q(A, "Attribute")):
        if attribute.get("Name") == "GARPersonIdentifiant":
            attribute[0].text = value


def xsw(kind, signed_response, evil_gar):
    """The SAMLRaider XML signature wrapping permutations, applied to a signed document."""
    doc = copy.deepcopy(signed_response)
    resp = doc
    if kind in (1, 2):
        clone = copy.deepcopy(resp)
        clone.remove(clone.find(q(DS, "Signature")))
        set_gar(resp, evil_gar)
        signature = resp.find(q(DS, "Signature"))
        if kind == 1:
            signature.append(clone)
        else:
            signature.addprevious(clone)
        resp.set("ID", "_evil_response_ID")
        return doc
    original = resp.find(q(A, "Assertion"))
    if kind in (3, 4, 7):
        evil = copy.deepcopy(original)
        evil.remove(evil.find(q(DS, "Signature")))
        set_gar(evil, evil_gar)
        if kind == 3:
            evil.set("ID", "_evil_assertion_ID")
            original.addprevious(evil)
        elif kind == 4:
            evil.set("ID", "_evil_assertion_ID")
            resp.append(evil)
            evil.append(original)
        else:
            extensions = etree.Element("Extensions")
            original.addprevious(extensions)
            extensions.append(evil)
        return doc
    # 5, 6, 8: the signed assertion becomes the evil one; an unsigned copy of the original stays.
    copy_of_original = copy.deepcopy(original)
    copy_of_original.remove(copy_of_original.find(q(DS, "Signature")))
    set_gar(original, evil_gar)
    signature = original.find(q(DS, "Signature"))
    if kind == 5:
        original.set("ID", "_evil_assertion_ID")
        resp.append(copy_of_original)
    elif kind == 6:
        original.set("ID", "_evil_assertion_ID")
        signature.append(copy_of_original)
    else:
        obj = etree.SubElement(signature, q(DS, "Object"))
        obj.append(copy_of_original)
    return doc


def xmlsec_first_signature_ok(tree, cert_pem):
    """What a signature-only check (python-xmlsec) says of the document: XSW keeps it valid."""
    tree = copy.deepcopy(tree)
    signature = xmlsec.tree.find_node(tree, xmlsec.constants.NodeSignature)
    if signature is None:
        return False
    for element in tree.iter():
        if element.get("ID") is not None:
            try:
                xmlsec.tree.add_ids(element, ["ID"])
            except Exception:
                return False
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(cert_pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
    try:
        ctx.verify(signature)
        return True
    except Exception:
        return False


def main():
    params = json.load(sys.stdin)
    if params.get("authn_request_url"):
        request = read_request(params["authn_request_url"], params["sp_metadata"])
    else:
        # IdP-initiated sign-in to the console: no request to answer.
        request = {"id": None, "issuer": params["console_entity_id"], "acs_url": params["console_acs_url"]}
    idp = IdP(params["idp_entity_id"], params.get("key_file"))
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    acs, audience, rid = request["acs_url"], request["issuer"], request["id"]
    id_ent, gar = params["id_ent"], params["gar_person_id"]

    def build(signed="assertion", key=None, cert=None, algorithm="rsa-sha256", request_id=rid, destination=None,
              status=SUCCESS, claimed_request_id=None, **assertion_args):
        args = dict(audience=audience, recipient=acs, request_id=request_id, id_ent=id_ent, gar=gar, now=now)
        args.update(assertion_args)
        inner = assertion(idp, **args)
        key, cert = key or idp.rsa_key, cert or idp.rsa_cert
        if signed in ("assertion", "both"):
            inner = sign(inner, key, cert, algorithm)
        outer = response(
            idp, inner, destination=destination or args["recipient"], request_id=claimed_request_id or request_id, status=status
        )
        if signed in ("response", "both"):
            outer = sign(outer, key, cert, algorithm)
        return outer

    docs = {
        "valid": build(),
        "valid_response_signed": build(signed="response"),
        "valid_both_signed": build(signed="both"),
        "valid_ecdsa": build(key=idp.ec_key, cert=idp.ec_cert, algorithm="ecdsa-sha256"),
        "unsigned": build(signed=None),
        "wrong_key": build(key=idp.other_key, cert=idp.other_cert),
        "sha1": build(algorithm="rsa-sha1"),
        "expired": build(issued=now - datetime.timedelta(minutes=3), lifetime=60),
        "too_old": build(issued=now - datetime.timedelta(hours=2), lifetime=3 * 3600),
        "not_yet_valid": build(not_before=now + datetime.timedelta(minutes=10)),
        "wrong_audience": build(audience="https://elsewhere.test/sp"),
        "wrong_recipient": build(recipient="https://elsewhere.test/acs", destination=acs),
        "wrong_destination": build(signed="both", destination="https://elsewhere.test/acs"),
        "status_error": build(signed="both", status="urn:oasis:names:tc:SAML:2.0:status:Requester"),
        "wrong_ent": build(id_ent="Z1"),
        "unknown_request": build(request_id="_never_sent_" + uuid.uuid4().hex),
        "unsolicited": build(request_id=None),
        # An unsolicited signed assertion in an unsigned Response claiming to answer the request.
        "unsolicited_claiming_request": build(request_id=None, claimed_request_id=rid),
        "unsolicited_console": build(
            request_id=None, audience=params["console_entity_id"], recipient=params["console_acs_url"]
        ),
    }

    # A signature inside the Assertion that covers the whole Response (an ancestor).
    outer = response(idp, assertion(idp, audience=audience, recipient=acs, request_id=rid, id_ent=id_ent, gar=gar, now=now),
                     destination=acs, request_id=rid)
    docs["reference_to_parent"] = sign(outer, idp.rsa_key, idp.rsa_cert, reference_id=outer.get("ID"), placeholder_in="Assertion")

    # The assertion's signature moved out to the Response: it still verifies, but encloses nothing it covers.
    detached = copy.deepcopy(docs["valid"])
    moved = detached.find(q(A, "Assertion")).find(q(DS, "Signature"))
    detached.find(q(A, "Issuer")).addnext(moved)
    docs["detached_signature"] = detached

    for kind in range(1, 9):
        base = docs["valid_response_signed"] if kind in (1, 2) else docs["valid"]
        docs[f"xsw{kind}"] = xsw(kind, base, "z0-ens-0001")

    # Changes after signing.
    tampered = copy.deepcopy(docs["valid"])
    set_gar(tampered, "z0-ens-0001")
    docs["tampered"] = tampered

    responses = {name: encode(tree) for name, tree in docs.items()}
    # A comment splitting the identifier: exclusive c14n without comments keeps the signature valid.
    commented = etree.tostring(docs["valid"]).decode().replace(gar + "<", gar[:3] + "<!-- -->" + gar[3:] + "<", 1)
    responses["comment_in_value"] = base64.b64encode(commented.encode()).decode()
    responses["dtd"] = encode(docs["valid"], b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY e "z0-ens-0001">]>\n')

    verdicts = {name: xmlsec_first_signature_ok(tree, idp.rsa_cert) for name, tree in docs.items() if name.startswith("xsw")}
    json.dump(
        {"metadata": idp.metadata(), "request": request, "responses": responses, "xmlsec_signature_ok": verdicts},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
