//! Message identifiers and timestamps in the forms SAML requires.

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;

/// A fresh `ID` value: `_` and 40 hex digits (160 random bits). It starts with an underscore
/// because `xs:ID` must be an NCName, and it is unguessable as SAML core §1.3.4 requires.
pub fn new_id() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    let mut id = String::with_capacity(41);
    id.push('_');
    id.push_str(&hex::encode(bytes));
    id
}

/// `xs:dateTime` in UTC with a `Z`, to the second, as SAML core §1.3.3 asks.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads an `xs:dateTime` that names its time zone (SAML requires UTC; an offset is converted).
/// A time without a zone is ambiguous and refused.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// Whether `text` is an NCName as `xs:ID` needs (ASCII subset: what every IdP generates).
pub fn is_ncname(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && text.len() <= 256
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_ncnames() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 41);
        assert!(is_ncname(&a));
    }

    #[test]
    fn instants_round_trip_in_utc() {
        let at = parse_instant("2026-11-25T10:00:00.123+01:00").unwrap();
        assert_eq!(format_instant(at), "2026-11-25T09:00:00Z");
        assert_eq!(parse_instant("2026-11-25T10:00:00"), None, "no zone");
        assert_eq!(parse_instant("yesterday"), None);
    }

    #[test]
    fn ncname_check() {
        assert!(is_ncname("_a1-b.c"));
        assert!(!is_ncname("1abc"));
        assert!(!is_ncname("a b"));
        assert!(!is_ncname(""));
        assert!(!is_ncname("xpointer(id('a'))"));
    }
}
