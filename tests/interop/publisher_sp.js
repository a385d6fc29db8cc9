#!/usr/bin/env node
// A publisher's service provider played by @node-saml/node-saml (xml-crypto: pure JavaScript,
// independent of libxmlsec1), receiving a response Sesame issued. Its certificates come from
// Sesame's published IdP metadata. node-saml cannot verify ECDSA (xml-crypto has no ECDSA), so
// only RSA responses are given to it.
//
// stdin (JSON): {"idp_metadata", "saml_response" (base64), "sp_entity_id", "acs_url", "request_id" | null,
//                "response_signed" (default true; false: only the assertion must be signed)}
// stdout (JSON): {"accepted": bool, "name_id", "attributes": {name: [values]}, "error"}

"use strict";

const { SAML } = require("@node-saml/node-saml");
const { DOMParser } = require("@xmldom/xmldom");

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";

function readMetadata(xml) {
  const doc = new DOMParser().parseFromString(xml, "text/xml");
  const entity = doc.getElementsByTagNameNS(MD, "EntityDescriptor")[0];
  const certs = [];
  const descriptors = entity.getElementsByTagNameNS(MD, "KeyDescriptor");
  for (let i = 0; i < descriptors.length; i++) {
    const use = descriptors[i].getAttribute("use");
    if (use && use !== "signing") continue;
    const bodies = descriptors[i].getElementsByTagNameNS(DS, "X509Certificate");
    for (let j = 0; j < bodies.length; j++) certs.push(bodies[j].textContent.replace(/\s+/g, ""));
  }
  return { entityId: entity.getAttribute("entityID"), certs };
}

async function main() {
  const input = await new Promise((resolve) => {
    let data = "";
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(data));
  });
  const params = JSON.parse(input);
  const metadata = readMetadata(params.idp_metadata);
  const saml = new SAML({
    idpCert: metadata.certs,
    idpIssuer: metadata.entityId,
    issuer: params.sp_entity_id,
    audience: params.sp_entity_id,
    callbackUrl: params.acs_url,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: params.response_signed !== false,
    acceptedClockSkewMs: 60000,
    validateInResponseTo: params.request_id ? "always" : "never",
  });
  if (params.request_id) {
    await saml.cacheProvider.saveAsync(params.request_id, new Date().toISOString());
  }
  let result;
  try {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: params.saml_response });
    const attributes = {};
    for (const [name, value] of Object.entries(profile.attributes || {})) {
      attributes[name] = Array.isArray(value) ? value : [value];
    }
    result = { accepted: true, name_id: profile.nameID, attributes, error: null };
  } catch (error) {
    result = { accepted: false, name_id: null, attributes: {}, error: String(error && error.message ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(result));
}

main();
