//! The entry URL `GET /domaineGar?idENT=…&idEtab=…&idRessource=…` in every shape ENTs use
//! (GAR-INTERFACES §3.3): `idRessource` or `idSrc`, each value base64 or plain, `idEtab` optional.
//!
//! A value is read as base64 when it decodes to printable ASCII without spaces (identifiers,
//! UAIs, ARKs and URLs all are); otherwise it is taken as written. Plain identifiers do not decode
//! that way: `Z0` is not valid base64, `ark:/…` and `http://…` hold a colon, and a plain word such
//! as `ENTTEST1` decodes to control bytes. A plain UAI is recognised before trying base64.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::domain::Uai;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A decoded entry request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub ent_id: String,
    pub uai: Option<Uai>,
    pub resource_id: String,
}

/// Why the entry URL is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("the {0} parameter is missing")]
    Missing(&'static str),
    #[error("idEtab is not a UAI")]
    InvalidUai,
}

impl Entry {
    /// Reads the query parameters (already percent-decoded).
    pub fn parse<'a>(mut get: impl FnMut(&str) -> Option<&'a str>) -> Result<Self, EntryError> {
        let present = |value: Option<&'a str>| value.map(str::trim).filter(|v| !v.is_empty());
        let ent_id = present(get("idENT")).map(decoded).ok_or(EntryError::Missing("idENT"))?;
        let resource_id = present(get("idRessource"))
            .or_else(|| present(get("idSrc")))
            .map(decoded)
            .ok_or(EntryError::Missing("idRessource"))?;
        let uai = match present(get("idEtab")) {
            None => None,
            Some(text) => Some(match Uai::parse(text) {
                Ok(uai) => uai,
                Err(_) => Uai::parse(&decoded(text)).map_err(|_| EntryError::InvalidUai)?,
            }),
        };
        Ok(Self { ent_id, uai, resource_id })
    }
}

/// The base64-decoded value when it reads as an identifier, else the value itself.
fn decoded(value: &str) -> String {
    // A `+` left unescaped in a hand-built link reaches us as a space; identifiers have none.
    LENIENT
        .decode(value.replace(' ', "+"))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Entry, EntryError> {
        Entry::parse(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    #[test]
    fn every_shape_of_section_3_3() {
        let expected = Entry {
            ent_id: "Z0".into(),
            uai: Some(Uai::parse("0990001N").unwrap()),
            resource_id: "ark:/99999/demo.maths6".into(),
        };
        // base64 idENT and idEtab, url-encoded plain idRessource (production 2024).
        assert_eq!(
            parse(&[("idENT", "WjA="), ("idEtab", "MDk5MDAwMU4="), ("idRessource", "ark:/99999/demo.maths6")]),
            Ok(expected.clone())
        );
        // Everything base64, idSrc (2018).
        assert_eq!(
            parse(&[("idENT", "WjA="), ("idEtab", "MDk5MDAwMU4="), ("idSrc", "YXJrOi85OTk5OS9kZW1vLm1hdGhzNg==")]),
            Ok(expected.clone())
        );
        // Hand-built by ENTs: all plain.
        assert_eq!(
            parse(&[("idENT", "Z0"), ("idEtab", "0990001N"), ("idRessource", "ark:/99999/demo.maths6")]),
            Ok(expected.clone())
        );
        // No idEtab; unpadded base64.
        assert_eq!(
            parse(&[("idENT", "WjA"), ("idSrc", "YXJrOi85OTk5OS9kZW1vLm1hdGhzNg")]),
            Ok(Entry { uai: None, ..expected })
        );
        assert_eq!(parse(&[("idENT", "RU5UVEVTVDE=")]).unwrap_err(), EntryError::Missing("idRessource"));
        assert_eq!(parse(&[("idENT", "ENTTEST1"), ("idSrc", "x")]).unwrap().ent_id, "ENTTEST1");
        assert_eq!(parse(&[("idRessource", "x")]), Err(EntryError::Missing("idENT")));
        // base64 `…cT0+Pg==` whose `+` was not escaped in the link arrives with a space.
        assert_eq!(
            parse(&[("idENT", "Z0"), ("idSrc", "aHR0cDovL3guZXhhbXBsZS8/cT0 Pg==")]).unwrap().resource_id,
            "http://x.example/?q=>>"
        );
        assert_eq!(parse(&[("idENT", "Z0"), ("idEtab", "nope"), ("idSrc", "x")]), Err(EntryError::InvalidUai));
    }
}
