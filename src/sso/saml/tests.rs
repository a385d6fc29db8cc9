//! Round trips inside the engine: what the issuing half writes, the verifying half accepts, and
//! every tampering is refused for the right reason. (Independent verifiers are exercised by the
//! interoperability tests in `tests/it/saml_*.rs`.)

use chrono::{TimeDelta, Utc};

use super::keys::{SignatureAlgorithm, SigningKeys};
use super::response::{Attribute, ResponseParams, issue};
use super::verify::{Bergshamra, Expectations, ReceivedResponse, Refusal, TrustedIdp};
use crate::pki::{KeyMaterial, KeyPaths};

const ACS: &str = "https://sesame.test/sp/acs";
const AUDIENCE: &str = "https://sesame.test/sp/metadata";
const IDP: &str = "https://ent.test/idp";

fn keys() -> SigningKeys {
    let dir = tempfile::tempdir().unwrap();
    SigningKeys::from_material(&KeyMaterial::load_or_create(&KeyPaths::in_data_dir(dir.path())).unwrap()).unwrap()
}

fn issued(keys: &SigningKeys, algorithm: SignatureAlgorithm, attributes: &[Attribute]) -> String {
    let now = Utc::now();
    let params = ResponseParams {
        issuer: IDP,
        destination: ACS,
        audience: AUDIENCE,
        in_response_to: Some("_request"),
        name_id: "ido-123",
        session_index: Some("_session"),
        authn_instant: now,
        authn_context_class: super::ns::AUTHN_CONTEXT_UNSPECIFIED,
        attributes,
        issued_at: now,
        lifetime: TimeDelta::minutes(5),
        clock_skew: TimeDelta::minutes(1),
    };
    issue(&params, keys.key(algorithm)).unwrap().xml
}

fn expectations() -> Expectations<'static> {
    Expectations {
        audience: AUDIENCE,
        acs_url: ACS,
        allow_unsolicited: false,
        now: Utc::now(),
        clock_skew: TimeDelta::minutes(1),
        max_age: TimeDelta::minutes(5),
        max_bytes: 1 << 18,
    }
}

fn ent_attributes() -> Vec<Attribute> {
    vec![Attribute::new("idEnt", ["Z0"]), Attribute::new("GARPersonIdentifiant", ["z0-elv-0001"])]
}

fn verify(xml: &str, keys: &SigningKeys) -> Result<super::verify::VerifiedResponse, Refusal> {
    let idp = TrustedIdp {
        ent_id: "Z0".into(),
        entity_id: IDP.into(),
        certificates: SignatureAlgorithm::ALL.iter().flat_map(|a| keys.published(*a).to_vec()).collect(),
    };
    ReceivedResponse::parse(xml.to_owned(), 1 << 18)?.verify(&idp, &expectations(), &Bergshamra)
}

#[test]
fn issued_responses_verify_with_both_algorithms() {
    let keys = keys();
    for algorithm in SignatureAlgorithm::ALL {
        let xml = issued(&keys, algorithm, &ent_attributes());
        let verified = verify(&xml, &keys).unwrap_or_else(|e| panic!("{algorithm:?}: {e}\n{xml}"));
        assert_eq!(verified.gar_person_id, "z0-elv-0001");
        assert_eq!(verified.name_id.as_deref(), Some("ido-123"));
        assert_eq!(verified.in_response_to.as_deref(), Some("_request"));
        assert_eq!(verified.session_index.as_deref(), Some("_session"));
    }
}

#[test]
fn tampering_breaks_the_digest_and_other_keys_do_not_verify() {
    let keys = keys();
    let xml = issued(&keys, SignatureAlgorithm::RsaSha256, &ent_attributes());
    let tampered = xml.replace("z0-elv-0001", "z0-elv-0002");
    assert!(matches!(verify(&tampered, &keys), Err(Refusal::SignatureInvalid(_))), "{:?}", verify(&tampered, &keys));
    let other = self::keys();
    assert!(matches!(verify(&xml, &other), Err(Refusal::SignatureInvalid(_))));
}

#[test]
fn checks_tie_the_assertion_to_this_service_provider() {
    let keys = keys();
    let xml =
        issued(&keys, SignatureAlgorithm::EcdsaSha256, &[Attribute::new("idEnt", ["Z1"]), ent_attributes()[1].clone()]);
    assert_eq!(verify(&xml, &keys), Err(Refusal::EntMismatch));
    let xml = issued(&keys, SignatureAlgorithm::EcdsaSha256, &ent_attributes()[..1]);
    assert_eq!(verify(&xml, &keys), Err(Refusal::MissingAttribute("GARPersonIdentifiant")));
}

#[test]
fn an_idp_can_send_idents_base64_encoded() {
    let keys = keys();
    let xml = issued(
        &keys,
        SignatureAlgorithm::EcdsaSha256,
        &[Attribute::new("idEnt", ["WjA="]), ent_attributes()[1].clone()],
    );
    assert!(verify(&xml, &keys).is_ok());
}

#[test]
fn hostile_inputs_never_panic() {
    use rand::{Rng, SeedableRng};
    const SNIPPETS: [&str; 14] = [
        "<",
        ">",
        "&",
        "<!--x-->",
        "<?pi x?>",
        "<!DOCTYPE a>",
        "]]>",
        "\u{0}",
        " xmlns:saml=\"urn:x\"",
        "<saml:Assertion>",
        "\"",
        "&#0;",
        "&#x110000;",
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>",
    ];
    let keys = keys();
    let original = issued(&keys, SignatureAlgorithm::RsaSha256, &ent_attributes());
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..200 {
        let mut xml = original.clone();
        for _ in 0..rng.random_range(1..4) {
            let mut at = rng.random_range(0..xml.len());
            while !xml.is_char_boundary(at) {
                at -= 1;
            }
            match rng.random_range(0..3) {
                0 => xml.insert_str(at, SNIPPETS[rng.random_range(0..SNIPPETS.len())]),
                1 => {
                    let mut end = (at + rng.random_range(1..200)).min(xml.len());
                    while !xml.is_char_boundary(end) {
                        end -= 1;
                    }
                    xml.replace_range(at..end, "");
                }
                _ => xml.truncate(at),
            }
        }
        // Anything but a panic is fine; most are refusals.
        let _ = verify(&xml, &keys);
        let _ = ReceivedResponse::decode(&xml, 1 << 18);
        let _ = super::metadata::parse_service_provider(&xml, None, Utc::now());
    }
}
