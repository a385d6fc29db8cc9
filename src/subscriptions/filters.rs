//! `<filtres>` and the `debut`/`fin` paging of the subscription search.
//!
//! Each `<filtre>` is one condition (`filtreNom` and one or more `filtreValeur`, any of which may
//! match); conditions, `<filtreParDate>` ranges included, must all hold. `dateApres` and
//! `dateAvant` bound a date inclusively, each optional, as a date-time or a plain date.

use chrono::{NaiveDate, NaiveDateTime};

use super::error::WsError;
use super::xml::Element;
use crate::domain::Public;
use crate::domain::subscription::parse_gar_datetime;
use crate::store::subscription_search::{DateField, DateRange, Filter, Search, SortKey};

/// Results per page when `fin` is not given (what real clients ask for).
pub const DEFAULT_PAGE: i64 = 5000;
/// Most results one call returns.
pub const MAX_PAGE: i64 = 10_000;

fn filter_error(field: &str, value: &str, expected_en: &'static str, expected_fr: &'static str) -> WsError {
    WsError::Filter { field: field.to_owned(), value: value.to_owned(), expected_en, expected_fr }
}

/// Reads a `<filtres>` element (or nothing: every live subscription, by idAbonnement).
pub fn read(root: Option<&Element>) -> Result<Search, WsError> {
    let mut search = Search::default();
    let Some(root) = root else { return Ok(search) };
    let mut seen_single: Vec<&str> = Vec::new();
    for child in &root.children {
        let name = child.name.as_str();
        if ["triPar", "tri", "aboSuppr"].contains(&name) {
            if seen_single.contains(&name) {
                return Err(WsError::Repeated(name.to_owned()));
            }
            seen_single.push(name);
        }
        match name {
            "filtre" => search.filters.push(read_filter(child)?),
            "filtreParDate" => search.dates.push(read_date_range(child)?),
            "triPar" => search.sort = sort_key(&child.text)?,
            "tri" => {
                search.descending = match child.text.as_str() {
                    "ASC" | "" => false,
                    "DSC" | "DESC" => true,
                    other => return Err(filter_error("tri", other, "ASC or DSC", "ASC ou DSC")),
                }
            }
            "aboSuppr" => {
                search.include_deleted = match child.text.as_str() {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    other => return Err(filter_error("aboSuppr", other, "true or false", "true ou false")),
                }
            }
            other => return Err(WsError::UnknownElement { parent: "filtres", name: other.to_owned() }),
        }
    }
    Ok(search)
}

fn read_filter(filter: &Element) -> Result<Filter, WsError> {
    let mut name = None;
    let mut values = Vec::new();
    for child in &filter.children {
        match child.name.as_str() {
            "filtreNom" if name.is_none() => name = Some(child.text.as_str()),
            "filtreNom" => return Err(WsError::Repeated("filtreNom".into())),
            "filtreValeur" => values.push(child.text.clone()),
            other => return Err(WsError::UnknownElement { parent: "filtre", name: other.to_owned() }),
        }
    }
    let name = name.unwrap_or_default();
    if values.is_empty() {
        return Err(filter_error("filtreValeur", "", "at least one value", "au moins une valeur"));
    }
    Ok(match name {
        "idAbonnement" => Filter::ExternalId(values),
        "idDistributeurCom" => Filter::Distributor(values),
        "uaiEtab" => Filter::School(values.iter().map(|uai| uai.trim().to_ascii_uppercase()).collect()),
        "typeAffectation" => Filter::AssignmentType(values),
        "categorieAffectation" => Filter::Category(values),
        "publicCible" => Filter::Public(
            values
                .iter()
                .map(|value| {
                    Public::parse(value).map_err(|_| {
                        filter_error(
                            "filtreValeur",
                            value,
                            "ELEVE, ENSEIGNANT, DOCUMENTALISTE or AUTRE PERSONNEL",
                            "ELEVE, ENSEIGNANT, DOCUMENTALISTE ou AUTRE PERSONNEL",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        "codeProjetRessource" => Filter::ProjectCode(values),
        other => {
            return Err(filter_error(
                "filtreNom",
                other,
                "idAbonnement, idDistributeurCom, uaiEtab, typeAffectation, categorieAffectation, publicCible or \
                 codeProjetRessource",
                "idAbonnement, idDistributeurCom, uaiEtab, typeAffectation, categorieAffectation, publicCible ou \
                 codeProjetRessource",
            ));
        }
    })
}

fn read_date_range(range: &Element) -> Result<DateRange, WsError> {
    let mut field = None;
    let (mut after, mut before) = (None, None);
    for child in &range.children {
        let text = child.text.as_str();
        match child.name.as_str() {
            "dateName" => {
                field = Some(match text {
                    "dateCreation" => DateField::Created,
                    "dateModification" => DateField::Modified,
                    "debutValidite" => DateField::ValidFrom,
                    "finValidite" => DateField::EndsAt,
                    other => {
                        return Err(filter_error(
                            "dateName",
                            other,
                            "dateCreation, dateModification, debutValidite or finValidite",
                            "dateCreation, dateModification, debutValidite ou finValidite",
                        ));
                    }
                })
            }
            "dateApres" => after = date_bound(child, false)?,
            "dateAvant" => before = date_bound(child, true)?,
            other => return Err(WsError::UnknownElement { parent: "filtreParDate", name: other.to_owned() }),
        }
    }
    let field = field.ok_or_else(|| {
        filter_error(
            "dateName",
            "",
            "dateCreation, dateModification, debutValidite or finValidite",
            "dateCreation, dateModification, debutValidite ou finValidite",
        )
    })?;
    Ok(DateRange { field, after, before })
}

/// A date-time, or a plain date standing for its first (`dateApres`) or last (`dateAvant`) second.
fn date_bound(element: &Element, end_of_day: bool) -> Result<Option<NaiveDateTime>, WsError> {
    let text = element.text.as_str();
    if text.is_empty() {
        return Ok(None);
    }
    let at = parse_gar_datetime(text).or_else(|| {
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        if end_of_day { day.and_hms_opt(23, 59, 59) } else { day.and_hms_opt(0, 0, 0) }
    });
    at.map(Some).ok_or_else(|| {
        filter_error(
            &element.name,
            text,
            "a date-time like 2026-09-01T00:00:00 or a date like 2026-09-01",
            "une date-heure comme 2026-09-01T00:00:00 ou une date comme 2026-09-01",
        )
    })
}

fn sort_key(text: &str) -> Result<SortKey, WsError> {
    Ok(match text {
        "idAbonnement" | "" => SortKey::ExternalId,
        "idRessource" => SortKey::ResourceId,
        "typeIdRessource" => SortKey::ResourceIdType,
        "libelleRessource" => SortKey::ResourceLabel,
        "debutValidite" => SortKey::ValidFrom,
        "finValidite" => SortKey::EndsAt,
        "categorieAffectation" => SortKey::Category,
        "typeAffectation" => SortKey::AssignmentType,
        "publicCible" => SortKey::Public,
        "codeProjetRessource" => SortKey::ProjectCode,
        other => {
            return Err(filter_error(
                "triPar",
                other,
                "a field of <abonnement>: idAbonnement, idRessource, typeIdRessource, libelleRessource, \
                 debutValidite, finValidite, categorieAffectation, typeAffectation, publicCible or codeProjetRessource",
                "un champ de <abonnement> : idAbonnement, idRessource, typeIdRessource, libelleRessource, \
                 debutValidite, finValidite, categorieAffectation, typeAffectation, publicCible ou codeProjetRessource",
            ));
        }
    })
}

/// `debut` (results skipped, default 0) and `fin` (most results returned, default
/// [`DEFAULT_PAGE`], at most [`MAX_PAGE`]) from the query string.
pub fn paging(query: &str, search: &mut Search) -> Result<(), WsError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let number =
        |name: &str, default: i64| -> Result<i64, WsError> {
            match pairs.iter().find(|(key, _)| key == name) {
                None => Ok(default),
                Some((_, value)) => value.trim().parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    filter_error(name, value, "a whole number, 0 or more", "un nombre entier, 0 ou plus")
                }),
            }
        };
    search.offset = number("debut", 0)?;
    search.limit = number("fin", DEFAULT_PAGE)?;
    if search.limit > MAX_PAGE {
        return Err(filter_error(
            "fin",
            &search.limit.to_string(),
            "at most 10000 results per call: page with debut",
            "au plus 10000 résultats par appel : paginer avec debut",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscriptions::xml::{NS, parse};

    fn search(inner: &str) -> Result<Search, WsError> {
        let body = format!(r#"<filtres xmlns="{NS}">{inner}</filtres>"#);
        read(Some(&parse(body.as_bytes(), "filtres").unwrap()))
    }

    #[test]
    fn reads_the_clients_filters() {
        let found = search(
            "<filtre><filtreNom>idDistributeurCom</filtreNom><filtreValeur>837973296_0000000000000000</filtreValeur></filtre>
             <filtre><filtreNom>uaiEtab</filtreNom><filtreValeur>0561622j</filtreValeur><filtreValeur>0561641E</filtreValeur></filtre>
             <filtreParDate><dateName>dateModification</dateName><dateApres>2026-09-01</dateApres></filtreParDate>
             <triPar>finValidite</triPar><tri>DSC</tri><aboSuppr>true</aboSuppr>",
        )
        .unwrap();
        assert_eq!(found.filters[1], Filter::School(vec!["0561622J".into(), "0561641E".into()]));
        assert_eq!(found.dates[0].after, parse_gar_datetime("2026-09-01T00:00:00"));
        assert_eq!(found.dates[0].before, None);
        assert_eq!((found.sort, found.descending, found.include_deleted), (SortKey::EndsAt, true, true));
    }

    #[test]
    fn refuses_unknown_names_and_values() {
        let rule = |inner: &str| search(inner).unwrap_err().rule();
        assert_eq!(rule("<filtre><filtreNom>couleur</filtreNom><filtreValeur>x</filtreValeur></filtre>"), "FILTRE");
        assert_eq!(rule("<filtre><filtreNom>uaiEtab</filtreNom></filtre>"), "FILTRE");
        assert_eq!(rule("<triPar>prix</triPar>"), "FILTRE");
        assert_eq!(rule("<tri>UP</tri>"), "FILTRE");
        assert_eq!(rule("<tri>ASC</tri><tri>DSC</tri>"), "SCHEMA");
        assert_eq!(rule("<filtreParDate><dateName>hier</dateName></filtreParDate>"), "FILTRE");
        assert_eq!(
            rule("<filtreParDate><dateName>debutValidite</dateName><dateAvant>demain</dateAvant></filtreParDate>"),
            "FILTRE"
        );
        assert_eq!(rule("<page>2</page>"), "SCHEMA");
    }

    #[test]
    fn pages() {
        let mut search = Search::default();
        paging("debut=20&fin=10", &mut search).unwrap();
        assert_eq!((search.offset, search.limit), (20, 10));
        paging("", &mut search).unwrap();
        assert_eq!((search.offset, search.limit), (0, DEFAULT_PAGE));
        assert!(paging("fin=10001", &mut search).is_err());
        assert!(paging("debut=-1", &mut search).is_err());
        assert!(paging("debut=un", &mut search).is_err());
    }
}
