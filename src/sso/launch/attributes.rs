//! The values of released attributes, from the person's directory facts in the school of the
//! launch (GAR-INTERFACES §4.3): `P_…` attributes describe staff, `E_MS` pupils; classes,
//! groups and subjects are sent as `code##libellé`.

use crate::domain::release::ReleaseAttribute;
use crate::domain::{Profile, Uai};
use crate::store::launch::{PersonFacts, Wanted};

/// The directory facts `released` needs.
pub fn facts_wanted(released: &[ReleaseAttribute]) -> Wanted {
    use ReleaseAttribute::*;
    let any = |attributes: &[ReleaseAttribute]| released.iter().any(|a| attributes.contains(a));
    Wanted {
        identity: any(&[Nom, Pre, Civ, PMel]),
        divisions: any(&[Div]),
        groups: any(&[Gro]),
        levels: any(&[PMs4, EMs]),
        mefs: any(&[PMef]),
        subjects: any(&[PMat]),
    }
}

/// The values of `attribute`; empty when the person has none (the attribute is then left out).
pub fn values(
    attribute: ReleaseAttribute,
    ido: &str,
    uai: &Uai,
    profiles: &[Profile],
    facts: &PersonFacts,
) -> Vec<String> {
    use ReleaseAttribute::*;
    let staff = facts.is_staff();
    let labelled = |pairs: &[(String, String)]| pairs.iter().map(|(code, label)| format!("{code}##{label}")).collect();
    match attribute {
        Ido => vec![ido.to_owned()],
        Uai => vec![uai.to_string()],
        Pro => profiles.iter().map(|p| p.code().to_owned()).collect(),
        Nom => vec![facts.last_name.clone()],
        Pre => vec![facts.first_name.clone()],
        Civ => facts.civility.iter().cloned().collect(),
        PMel if staff => facts.mails.clone(),
        Div => labelled(&facts.divisions),
        Gro => labelled(&facts.groups),
        PMs4 if staff => facts.levels.clone(),
        PMat if staff => labelled(&facts.subjects),
        PMef if staff => facts.mefs.clone(),
        EMs if !staff => facts.levels.clone(),
        PMel | PMs4 | PMat | PMef | EMs => Vec::new(),
    }
    .into_iter()
    .filter(|value: &String| !value.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_and_pupil_attributes() {
        let uai = Uai::parse("0990001N").unwrap();
        let teacher = PersonFacts {
            source: "ENSEIGNANT".into(),
            last_name: "Martin".into(),
            mails: vec!["a.martin@ac-demo.example".into()],
            divisions: vec![("6A".into(), "6e A".into())],
            levels: vec!["2111".into()],
            subjects: vec![("0613".into(), "MATHEMATIQUES".into())],
            ..PersonFacts::default()
        };
        let pupil = PersonFacts { source: "ELEVE".into(), ..teacher.clone() };
        let profiles = [Profile::parse("National_ens").unwrap()];
        let of = |a, facts: &PersonFacts| values(a, "ido", &uai, &profiles, facts);
        assert_eq!(of(ReleaseAttribute::Uai, &teacher), vec!["0990001N"]);
        assert_eq!(of(ReleaseAttribute::Pro, &teacher), vec!["National_ens"]);
        assert_eq!(of(ReleaseAttribute::Div, &teacher), vec!["6A##6e A"]);
        assert_eq!(of(ReleaseAttribute::PMat, &teacher), vec!["0613##MATHEMATIQUES"]);
        assert_eq!(of(ReleaseAttribute::PMel, &teacher), vec!["a.martin@ac-demo.example"]);
        assert!(of(ReleaseAttribute::PMel, &pupil).is_empty(), "pupils' addresses are never sent");
        assert_eq!(of(ReleaseAttribute::PMs4, &teacher), vec!["2111"]);
        assert!(of(ReleaseAttribute::EMs, &teacher).is_empty());
        assert_eq!(of(ReleaseAttribute::EMs, &pupil), vec!["2111"]);
        assert!(of(ReleaseAttribute::Civ, &teacher).is_empty());
    }
}
