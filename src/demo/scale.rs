//! A synthetic académie of any size, scaled from the demo's schools: a collège, a lycée, a lycée
//! professionnel and two écoles serve as templates, whose classes are repeated until each school
//! reaches its share of the persons asked for.

use super::SettingsError;
use super::fixtures::Fixtures;
use super::settings::{EntSettings, EstablishmentSettings, OptionSettings, Settings};
use crate::domain::Uai;
use crate::domain::directory::Degree;
use crate::domain::uai::check_letter;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Scale {
    /// ENT project id (idENT).
    pub ent: String,
    pub establishments: u32,
    /// Persons in all, pupils and staff; the result is close, not exact.
    pub persons: u64,
    /// First three digits of the generated UAIs (e.g. 97: 0970001A…), so that académies of
    /// different ENT projects do not share schools.
    pub department: u16,
    pub seed: u64,
}

/// Template (index in the demo's establishments) and relative pupil count, for each school in a
/// cycle of ten: four écoles, three collèges, two lycées, one lycée professionnel.
const CYCLE: [(usize, f64); 10] =
    [(3, 0.25), (0, 1.0), (4, 0.25), (1, 1.6), (0, 1.0), (3, 0.25), (2, 0.7), (0, 1.0), (4, 0.25), (1, 1.6)];

/// Staff are about this share of persons.
const STAFF_SHARE: f64 = 0.07;

/// Settings for `generate_each_establishment` describing the académie `scale` asks for.
pub fn scaled(scale: &Scale) -> Result<Settings, SettingsError> {
    if scale.establishments == 0 || scale.establishments > 9_999 || scale.department > 999 {
        return Err(SettingsError::Invalid("from 1 to 9,999 establishments, department from 0 to 999".into()));
    }
    if scale.ent.is_empty() || !scale.ent.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(SettingsError::Invalid(format!("ENT id `{}` is empty or not alphanumeric", scale.ent)));
    }
    let demo = Fixtures::embedded().map_err(|e| SettingsError::Invalid(e.to_string()))?.settings;
    let cycle = |n: u32| CYCLE[n as usize % CYCLE.len()];
    let weights: f64 = (0..scale.establishments).map(|n| cycle(n).1).sum();
    let pupils_per_weight = scale.persons as f64 * (1.0 - STAFF_SHARE) / weights;
    let establishments = (0..scale.establishments)
        .map(|n| {
            let (template, weight) = cycle(n);
            let number = u32::from(scale.department) * 10_000 + n + 1;
            let uai = Uai::parse(&format!("{number:07}{}", check_letter(number))).expect("7 digits and a letter");
            school(&demo.establishments[template], &scale.ent, uai, n + 1, pupils_per_weight * weight)
        })
        .collect();
    let settings = Settings {
        seed: scale.seed,
        mail_domain: demo.mail_domain.clone(),
        ents: vec![EntSettings { id: scale.ent.clone(), name: format!("ENT {}", scale.ent) }],
        establishments,
        shared_teachers: Vec::new(),
        names: demo.names,
    };
    settings.validate()?;
    Ok(settings)
}

/// A copy of `template` whose divisions are repeated to hold about `pupils` pupils.
fn school(template: &EstablishmentSettings, ent: &str, uai: Uai, number: u32, pupils: f64) -> EstablishmentSettings {
    let class_size = if template.degree == Degree::First { 25 } else { 28 };
    let divisions = template.levels.iter().flat_map(|l| &l.divisions).collect::<std::collections::BTreeSet<_>>().len();
    let copies = ((pupils / (divisions as f64 * f64::from(class_size))).round() as u32).max(1);
    let expand = |codes: &[String]| -> Vec<String> {
        codes
            .iter()
            .flat_map(|code| (1..=copies).map(move |i| if copies == 1 { code.clone() } else { format!("{code}-{i}") }))
            .collect()
    };
    let kind = template.name.split_whitespace().next().unwrap_or("École");
    let mut levels = template.levels.clone();
    for level in &mut levels {
        level.divisions = expand(&level.divisions);
    }
    let options =
        template.options.iter().map(|o| OptionSettings { divisions: expand(&o.divisions), ..o.clone() }).collect();
    let mut subjects = template.subjects.clone();
    for subject in &mut subjects {
        // Teachers shared between demo schools are not generated here: every subject has its own.
        subject.teachers = subject.teachers.max(1) * copies;
    }
    let mut staff = template.staff;
    staff.librarians *= copies.div_ceil(3);
    staff.school_life *= copies;
    staff.other *= copies;
    EstablishmentSettings {
        uai: uai.clone(),
        ent: ent.to_owned(),
        degree: template.degree,
        name: format!("{kind} n°{number}"),
        contract: template.contract.clone(),
        phone: Some(format!("01{:08}", number)),
        email: Some(format!("ce.{}@ac-synthetique.example", uai.as_str().to_lowercase())),
        functional_attachment: None,
        class_size,
        managers: template.managers,
        staff,
        teaching_director: template.teaching_director,
        class_teacher_post: template.class_teacher_post.clone(),
        subjects,
        levels,
        options,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::generate_each_establishment;
    use crate::domain::directory::PersonSource;

    #[test]
    fn scaled_academies_are_close_to_the_size_asked() {
        let scale = Scale { ent: "Z9".into(), establishments: 20, persons: 12_000, department: 97, seed: 1 };
        let settings = scaled(&scale).unwrap();
        assert_eq!(settings.establishments.len(), 20);
        assert!(
            settings.establishments.iter().all(|e| e.uai.has_valid_check_letter() && e.uai.as_str().starts_with("097"))
        );
        let (mut persons, mut pupils, mut classes) = (0usize, 0usize, Vec::new());
        generate_each_establishment(&settings, 1, |dir| {
            persons += dir.persons.len();
            pupils += dir.persons.iter().filter(|p| p.source == PersonSource::Pupil).count();
            for class in dir.groups.iter().filter(|g| g.status == crate::domain::directory::GroupStatus::Division) {
                let size = dir.person_groups.iter().filter(|m| m.group_code == class.code).count();
                classes.push(size);
            }
        });
        assert!((10_000..=14_000).contains(&persons), "{persons} persons");
        assert!(pupils as f64 > persons as f64 * 0.85, "{pupils} pupils of {persons}");
        // About 28 pupils per class (25 in écoles), plus their teachers.
        let average = classes.iter().sum::<usize>() as f64 / classes.len() as f64;
        assert!((25.0..=40.0).contains(&average), "{average}");
    }
}
