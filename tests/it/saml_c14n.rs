//! Property: the bytes Sesame emits are their own Exclusive XML Canonicalization, as lxml
//! (libxml2) computes it, whatever the values: accents, markup characters, quotes, CR/LF/TAB,
//! astral and separator characters, very long values. This is what makes a digest over the
//! emitted bytes equal to the digest every verifier computes.
//!
//! Values are random; the seed is printed and can be replayed with `TEST_C14N_SEED=<seed>`.

use chrono::{TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sesame::pki::{KeyMaterial, KeyPaths};
use sesame::sso::saml::{Attribute, ResponseParams, SignatureAlgorithm, SigningKeys, issue};

use crate::interop;

/// Characters a value is drawn from, biased towards what c14n escapes or could mishandle.
const POOLS: [&[char]; 6] = [
    &['a', 'Z', '0', ' ', '-', '#', '/', '=', ';', ':'],
    &['&', '<', '>', '"', '\'', ']'],
    &['\t', '\n', '\r'],
    &['é', 'è', 'ç', 'Æ', 'œ', 'ß', 'ñ', 'ü'],
    &['𝄞', '😀', '\u{10FFFF}', '\u{E000}', '\u{FFFD}'],
    &['\u{85}', '\u{2028}', '\u{FEFF}', '\u{A0}', '\u{D7FF}'],
];

fn random_value(rng: &mut StdRng) -> String {
    let len = rng.random_range(0..120);
    (0..len)
        .map(|_| {
            let pool = POOLS[rng.random_range(0..POOLS.len())];
            pool[rng.random_range(0..pool.len())]
        })
        .collect()
}

#[test]
fn issued_responses_are_their_own_exclusive_c14n() {
    let seed = std::env::var("TEST_C14N_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("TEST_C14N_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let keys =
        SigningKeys::from_material(&KeyMaterial::load_or_create(&KeyPaths::in_data_dir(dir.path())).unwrap()).unwrap();

    let mut values: Vec<String> =
        ["", "Zoé", "a&b<c>d\"e'f", "]]>", "\r\n", "line\nbreak", "tab\there", "\r", " lead and trail ", "&amp;"]
            .map(str::to_owned)
            .to_vec();
    values.push("é&<\r\n\t\"".repeat(20_000));
    values.extend((0..200).map(|_| random_value(&mut rng)));

    let now = Utc::now();
    let mut documents = Vec::new();
    for (n, chunk) in values.chunks(8).enumerate() {
        let attributes: Vec<Attribute> = chunk
            .iter()
            .enumerate()
            .map(|(i, value)| {
                Attribute::new(format!("A{i}{}", chunk[0].replace(['\t', '\n', '\r'], " ")), [value.clone()])
            })
            .collect();
        let name_id = format!("id{}", chunk[chunk.len() - 1]);
        let destination = format!("https://sp.test/acs?x={}", chunk[0]);
        let params = ResponseParams {
            issuer: "https://sesame.test/idp/metadata",
            destination: &destination,
            audience: "https://sp.test/sp",
            in_response_to: (n % 2 == 0).then_some("_request"),
            name_id: &name_id,
            session_index: Some("_session"),
            authn_instant: now,
            authn_context_class: "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
            attributes: &attributes,
            issued_at: now,
            lifetime: TimeDelta::minutes(5),
            clock_skew: TimeDelta::minutes(1),
        };
        let algorithm = if n % 2 == 0 { SignatureAlgorithm::RsaSha256 } else { SignatureAlgorithm::EcdsaSha256 };
        documents.push(issue(&params, keys.key(algorithm)).unwrap().xml);
    }

    let canonical = interop::python("xml_oracle.py", &["c14n"], &json!(documents));
    for (ours, theirs) in documents.iter().zip(canonical.as_array().unwrap()) {
        let theirs = theirs.as_str().unwrap();
        if ours != theirs {
            let at = ours.bytes().zip(theirs.bytes()).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
            let window = |s: &str| s.get(at.saturating_sub(40)..(at + 40).min(s.len())).unwrap_or_default().to_owned();
            panic!("seed {seed}: differs at byte {at}:\n ours:   {:?}\n lxml:   {:?}", window(ours), window(theirs));
        }
    }
}
