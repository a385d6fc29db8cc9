//! `urlAccesRessource`: Sesame's sign-on entry for a resource, shaped as the GAR's production one
//! (GAR-INTERFACES §3.3): `…/domaineGar?idENT=<base64>&idEtab=<base64 UAI>&idRessource=<url-encoded id>`.
//! Without `idEtab` (a shape the GAR accepts too), sign-on picks a school of the user that grants it.
//! The médiacentre builds it; sign-on serves it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::Uai;

/// The entry's path on the public listener.
pub const ENTRY_PATH: &str = "/domaineGar";

/// The entry URL for `resource_id` opened from school `uai` (or any of the user's schools) of ENT
/// project `ent_id`. `public_url` is the public listener's base URL, without a trailing slash.
pub fn access_url(public_url: &str, ent_id: &str, uai: Option<&Uai>, resource_id: &str) -> String {
    let resource: String = url::form_urlencoded::byte_serialize(resource_id.as_bytes()).collect();
    let school = uai.map(|uai| format!("&idEtab={}", base64(uai.as_str()))).unwrap_or_default();
    format!("{public_url}{ENTRY_PATH}?idENT={}{school}&idRessource={resource}", base64(ent_id))
}

/// Standard base64 with padding, as the GAR writes it (`WjA=`). `=` is left as is, like the GAR
/// does; `+` and `/` are escaped, since a query parser would read `+` as a space.
fn base64(text: &str) -> String {
    STANDARD.encode(text).replace('+', "%2B").replace('/', "%2F")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_gar_production_shape() {
        let uai = Uai::parse("9999991F").unwrap();
        assert_eq!(
            access_url("https://idp-auth.gar.education.fr", "B0", Some(&uai), "ark:/32151/LA.FLE"),
            "https://idp-auth.gar.education.fr/domaineGar?idENT=QjA=&idEtab=OTk5OTk5MUY=&idRessource=ark%3A%2F32151%2FLA.FLE"
        );
        assert_eq!(
            access_url("https://s.example", "B0", None, "ark:/1/x"),
            "https://s.example/domaineGar?idENT=QjA=&idRessource=ark%3A%2F1%2Fx"
        );
    }

    #[test]
    fn escapes_what_a_query_parser_would_misread() {
        let uai = Uai::parse("0990001N").unwrap();
        // base64("~~>") = "fn4+", base64("???") = "Pz8/".
        let url = access_url("https://s.example", "~~>", Some(&uai), "http://n2t.net/ark:/99999/r1?x=1&y");
        assert!(url.contains("idENT=fn4%2B&"), "{url}");
        assert!(url.ends_with("idRessource=http%3A%2F%2Fn2t.net%2Fark%3A%2F99999%2Fr1%3Fx%3D1%26y"), "{url}");
        assert_eq!(base64("???"), "Pz8%2F");
        let parsed = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        assert_eq!(pairs[0], ("idENT".into(), "fn4+".into()));
        assert_eq!(pairs[2], ("idRessource".into(), "http://n2t.net/ark:/99999/r1?x=1&y".into()));
    }
}
