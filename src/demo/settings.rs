//! Generator settings (`fixtures/demo/academie.toml`) and the name lists (`fixtures/demo/names.toml`).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::domain::Uai;
use crate::domain::directory::Degree;

/// How to generate an académie: ENT projects, schools, their structure and staff.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Default seed; `generate` takes the seed explicitly so callers can vary it.
    pub seed: u64,
    /// Domain of generated staff mail addresses.
    pub mail_domain: String,
    #[serde(rename = "ent")]
    pub ents: Vec<EntSettings>,
    #[serde(rename = "establishment")]
    pub establishments: Vec<EstablishmentSettings>,
    #[serde(rename = "shared_teacher", default)]
    pub shared_teachers: Vec<SharedTeacher>,
    /// Filled from names.toml by [`Settings::parse`].
    #[serde(skip)]
    pub names: Names,
}

/// An ENT project (idENT and display name).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntSettings {
    pub id: String,
    pub name: String,
}

/// One school: its GAREtab fields, its structure and how many staff of each kind it has.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstablishmentSettings {
    pub uai: Uai,
    pub ent: String,
    pub degree: Degree,
    pub name: String,
    pub contract: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// GAREtablissementStructRattachFctl (second degree only).
    pub functional_attachment: Option<String>,
    /// Pupils per division.
    pub class_size: u32,
    /// How many assignment managers (GARRespAff): the head first, then librarians, deputies, teachers.
    pub managers: u32,
    #[serde(default)]
    pub staff: StaffSettings,
    /// First degree: the first class teacher also heads the school (National_ens and National_dir).
    #[serde(default)]
    pub teaching_director: bool,
    /// First degree: the spécialité de poste of class teachers.
    pub class_teacher_post: Option<String>,
    /// Second degree: subjects taught (GARMatiere) and their teachers.
    #[serde(rename = "subject", default)]
    pub subjects: Vec<SubjectSettings>,
    #[serde(rename = "level")]
    pub levels: Vec<LevelSettings>,
    #[serde(rename = "option", default)]
    pub options: Vec<OptionSettings>,
}

/// Staff other than subject or class teachers.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaffSettings {
    /// National_dir.
    pub direction: u32,
    /// National_doc (second degree only).
    pub librarians: u32,
    /// National_evs.
    pub school_life: u32,
    /// National_eta.
    pub other: u32,
}

/// A subject (GARMatiere) and the teachers of it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectSettings {
    pub code: String,
    pub label: String,
    /// Discipline de poste of its teachers (GAREnsDisciplinePosteCode).
    pub post: String,
    /// Teachers of this subject in this school only (shared teachers come on top).
    pub teachers: u32,
}

/// A level: a MEF (second degree) or MEFSTAT4 (first degree), with its divisions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSettings {
    pub code: String,
    pub label: String,
    /// GARMEFSTAT11 (second degree, optional).
    pub stat11: Option<String>,
    /// Year of birth of its pupils.
    pub birth_year: i32,
    /// Division codes; a division under several levels is a multi-level class.
    pub divisions: Vec<String>,
    /// Subject codes every pupil of the level follows (second degree).
    #[serde(default)]
    pub subjects: Vec<String>,
}

/// A choice pupils of some divisions make: each joins one group, drawn by weight, or none.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSettings {
    pub divisions: Vec<String>,
    #[serde(default)]
    pub none_weight: u32,
    pub groups: Vec<OptionGroup>,
}

/// A GROUPE drawn from an option's divisions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionGroup {
    pub code: String,
    pub label: String,
    /// The subject taught to the group (second degree); its teacher comes from that subject's pool.
    pub subject: Option<String>,
    pub weight: u32,
}

/// One teacher working in several second-degree schools of an ENT project.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedTeacher {
    pub ent: String,
    pub subject: String,
    pub establishments: Vec<Uai>,
}

/// Names to draw from (names.toml).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// First names of pupils' generation.
    pub pupils: FirstNames,
    /// First names of staff's generation.
    pub adults: FirstNames,
    pub family: FamilyNames,
}

/// First names by gender.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstNames {
    pub female: Vec<String>,
    pub male: Vec<String>,
}

/// Family names.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyNames {
    pub names: Vec<String>,
}

/// Settings that parse but describe an impossible académie.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{file}: {reason}")]
    Parse { file: &'static str, reason: String },
    #[error("academie.toml: {0}")]
    Invalid(String),
}

impl Settings {
    /// Parses academie.toml and names.toml, and checks they describe a consistent académie.
    pub fn parse(academie: &str, names: &str) -> Result<Self, SettingsError> {
        let mut settings: Settings = toml::from_str(academie)
            .map_err(|e| SettingsError::Parse { file: "academie.toml", reason: e.to_string() })?;
        settings.names =
            toml::from_str(names).map_err(|e| SettingsError::Parse { file: "names.toml", reason: e.to_string() })?;
        settings.validate()?;
        Ok(settings)
    }

    /// The schools of one ENT project, in file order.
    pub fn establishments_of<'a>(&'a self, ent: &'a str) -> impl Iterator<Item = &'a EstablishmentSettings> {
        self.establishments.iter().filter(move |e| e.ent == ent)
    }

    /// Every rule `generate` relies on, so that generation itself cannot fail.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |reason: String| Err(SettingsError::Invalid(reason));
        let Names { pupils, adults, family } = &self.names;
        let lists = [&pupils.female, &pupils.male, &adults.female, &adults.male, &family.names];
        if lists.iter().any(|list| list.is_empty()) {
            return Err(SettingsError::Parse { file: "names.toml", reason: "every name list needs names".into() });
        }
        let mut ents = HashSet::new();
        for ent in &self.ents {
            if ent.id.is_empty() || !ent.id.chars().all(|c| c.is_ascii_alphanumeric()) || !ents.insert(&ent.id) {
                return invalid(format!("ENT id `{}` is empty, not alphanumeric or repeated", ent.id));
            }
        }
        let mut schools = HashMap::new();
        for school in &self.establishments {
            if schools.insert(&school.uai, school).is_some() {
                return invalid(format!("{} is listed twice", school.uai));
            }
            if !school.uai.has_valid_check_letter() {
                return invalid(format!(
                    "{}: the check letter should be {}",
                    school.uai,
                    school.uai.expected_check_letter()
                ));
            }
            if !ents.contains(&school.ent) {
                return invalid(format!("{}: unknown ENT `{}`", school.uai, school.ent));
            }
            validate_school(school, &self.shared_teachers)
                .map_err(|reason| SettingsError::Invalid(format!("{}: {reason}", school.uai)))?;
        }
        for shared in &self.shared_teachers {
            for uai in &shared.establishments {
                let Some(school) = schools.get(uai) else {
                    return invalid(format!("shared teacher: unknown school {uai}"));
                };
                if school.ent != shared.ent || school.degree != Degree::Second {
                    return invalid(format!("shared teacher: {uai} is not a second-degree school of {}", shared.ent));
                }
                if !school.subjects.iter().any(|s| s.code == shared.subject) {
                    return invalid(format!("shared teacher: {uai} has no subject {}", shared.subject));
                }
            }
        }
        Ok(())
    }
}

fn validate_school(school: &EstablishmentSettings, shared: &[SharedTeacher]) -> Result<(), String> {
    if school.class_size == 0 || school.levels.is_empty() {
        return Err("needs levels and a class size".into());
    }
    let divisions: HashSet<&String> = school.levels.iter().flat_map(|l| &l.divisions).collect();
    if school.levels.iter().any(|l| l.divisions.is_empty()) {
        return Err("every level needs divisions".into());
    }
    let mut group_codes = HashSet::new();
    for option in &school.options {
        if option.groups.is_empty() || option.groups.iter().all(|g| g.weight == 0) {
            return Err("an option needs groups with weights".into());
        }
        if let Some(unknown) = option.divisions.iter().find(|d| !divisions.contains(d)) {
            return Err(format!("an option names unknown division {unknown}"));
        }
        for group in &option.groups {
            if divisions.contains(&group.code) || !group_codes.insert(&group.code) {
                return Err(format!("group code {} is repeated or is a division", group.code));
            }
        }
    }
    let candidates = school.staff.direction + school.staff.librarians + u32::from(school.teaching_director);
    if school.managers == 0 || school.managers > candidates + school.subjects.iter().map(|s| s.teachers).sum::<u32>() {
        return Err("needs 1 or more assignment managers, at most as many as its staff".into());
    }
    match school.degree {
        Degree::First => {
            let first_degree_rules = [
                (!school.subjects.is_empty(), "a first-degree school has no GARMatiere subjects"),
                (school.staff.librarians > 0, "a first-degree school has no librarian (National_doc)"),
                (school.class_teacher_post.is_none(), "needs class_teacher_post"),
                (school.functional_attachment.is_some(), "GAREtablissementStructRattachFctl is second degree only"),
                (
                    school.levels.iter().any(|l| l.code.len() > 4),
                    "level codes are MEFSTAT4 codes, at most 4 characters",
                ),
                (school.options.iter().flat_map(|o| &o.groups).any(|g| g.subject.is_some()), "groups have no subject"),
            ];
            if let Some((_, reason)) = first_degree_rules.iter().find(|(broken, _)| *broken) {
                return Err((*reason).into());
            }
        }
        Degree::Second => {
            if school.levels.iter().any(|l| l.code.len() != 11) {
                return Err("MEF codes have 11 characters".into());
            }
            let mut codes = HashSet::new();
            if let Some(repeated) = school.subjects.iter().find(|s| !codes.insert(&s.code)) {
                return Err(format!("subject {} is listed twice", repeated.code));
            }
            let taught = school
                .levels
                .iter()
                .flat_map(|l| &l.subjects)
                .chain(school.options.iter().flat_map(|o| &o.groups).filter_map(|g| g.subject.as_ref()));
            for code in taught {
                let Some(subject) = school.subjects.iter().find(|s| &s.code == code) else {
                    return Err(format!("unknown subject {code}"));
                };
                let shared = shared.iter().any(|t| &t.subject == code && t.establishments.contains(&school.uai));
                if subject.teachers == 0 && !shared {
                    return Err(format!("nobody teaches subject {code}"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACADEMIE: &str = include_str!("../../fixtures/demo/academie.toml");
    const NAMES: &str = include_str!("../../fixtures/demo/names.toml");

    #[test]
    fn the_demo_settings_are_valid() {
        let settings = Settings::parse(ACADEMIE, NAMES).unwrap();
        assert_eq!(settings.ents.len(), 2);
        assert_eq!(settings.establishments.len(), 5);
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let cases = [
            ("uai = \"0990001N\"", "uai = \"0990001A\"", "check letter"),
            ("[\"0990001N\", \"0990002P\"]", "[\"0990001N\", \"0990002P\", \"0990009X\"]", "unknown school"),
            ("subject = \"020300\", weight = 1", "subject = \"999999\", weight = 1", "unknown subject"),
            ("class_teacher_post = \"ECEL\"   #", "# ", "class_teacher_post"),
            ("divisions = [\"5A\"]\ngroups", "divisions = [\"5Z\"]\ngroups", "unknown division"),
        ];
        for (from, to, expected) in cases {
            assert!(ACADEMIE.contains(from), "{from:?} not in academie.toml");
            let error = Settings::parse(&ACADEMIE.replacen(from, to, 1), NAMES).unwrap_err().to_string();
            assert!(error.contains(expected), "{from:?}: {error}");
        }
    }
}
