//! A school's populations as the console offers them (classes, groups, levels, subjects, profiles,
//! with labels and head counts) and the person search.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;

use super::schema::{
    mefs, person_groups, person_mefs, person_mefstat4, person_profiles, persons, school_groups, subjects,
    teacher_group_subjects,
};
use super::{AnyConnection, StoreError};
use crate::domain::assignment::AssignmentTarget;
use crate::domain::directory::GroupStatus;
use crate::domain::{Profile, Uai};

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// A population a manager can pick, with its label and how many people it holds now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Population {
    pub target: AssignmentTarget,
    pub label: String,
    pub members: i64,
}

/// Every population of a school, each list sorted by code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Populations {
    pub classes: Vec<Population>,
    pub groups: Vec<Population>,
    /// MEF (second degree) or MEFSTAT4 (first degree) levels, counting pupils.
    pub levels: Vec<Population>,
    /// Subjects, counting the teachers who teach them.
    pub subjects: Vec<Population>,
    pub profiles: Vec<Population>,
}

impl Populations {
    /// The label of a target, for lists and history ("6A", "Mathématiques"…).
    pub fn label(&self, target: &AssignmentTarget) -> Option<&str> {
        [&self.classes, &self.groups, &self.levels, &self.subjects, &self.profiles]
            .into_iter()
            .flatten()
            .find(|p| &p.target == target)
            .map(|p| p.label.as_str())
    }
}

/// Reads the school's populations. Only people present in the directory are counted.
pub fn of_school(conn: &mut AnyConnection, uai: &Uai) -> Result<Populations, StoreError> {
    let school = uai.as_str();
    let present: HashSet<i64> = person_profiles::table
        .inner_join(persons::table)
        .filter(person_profiles::uai.eq(school))
        .filter(persons::removed_at.is_null())
        .select(person_profiles::person_id)
        .distinct()
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let mut populations = Populations::default();

    let groups: Vec<(String, String, String)> = school_groups::table
        .filter(school_groups::uai.eq(school))
        .order(school_groups::code)
        .select((school_groups::code, school_groups::label, school_groups::status))
        .load(conn)?;
    let memberships: Vec<(String, i64)> = person_groups::table
        .inner_join(school_groups::table)
        .filter(school_groups::uai.eq(school))
        .select((school_groups::code, person_groups::person_id))
        .load(conn)?;
    let group_counts = count_present(memberships, &present);
    for (code, label, status) in groups {
        let members = group_counts.get(&code).copied().unwrap_or(0);
        if status == GroupStatus::Division.code() {
            populations.classes.push(Population { target: AssignmentTarget::Division(code), label, members });
        } else {
            populations.groups.push(Population { target: AssignmentTarget::Group(code), label, members });
        }
    }

    let pupils: HashSet<i64> = person_profiles::table
        .filter(person_profiles::uai.eq(school))
        .filter(person_profiles::profile.eq(Profile::Pupil.code()))
        .select(person_profiles::person_id)
        .load::<i64>(conn)?
        .into_iter()
        .filter(|id| present.contains(id))
        .collect();
    let labels: HashMap<String, String> =
        mefs::table.filter(mefs::uai.eq(school)).select((mefs::code, mefs::label)).load(conn)?.into_iter().collect();
    let mut levels: Vec<(String, i64)> = person_mefs::table
        .filter(person_mefs::uai.eq(school))
        .select((person_mefs::mef_code, person_mefs::person_id))
        .load(conn)?;
    levels.extend(
        person_mefstat4::table
            .filter(person_mefstat4::uai.eq(school))
            .select((person_mefstat4::code, person_mefstat4::person_id))
            .load::<(String, i64)>(conn)?,
    );
    for (code, members) in count_present(levels, &pupils) {
        let label = labels.get(&code).cloned().unwrap_or_else(|| code.clone());
        populations.levels.push(Population { target: AssignmentTarget::Mef(code), label, members });
    }

    let labels: HashMap<String, String> = subjects::table
        .filter(subjects::uai.eq(school))
        .select((subjects::code, subjects::label))
        .load(conn)?
        .into_iter()
        .collect();
    let taught: Vec<(String, i64)> = teacher_group_subjects::table
        .inner_join(school_groups::table)
        .filter(school_groups::uai.eq(school))
        .select((teacher_group_subjects::subject_code, teacher_group_subjects::person_id))
        .load(conn)?;
    for (code, members) in count_present(taught, &present) {
        let label = labels.get(&code).cloned().unwrap_or_else(|| code.clone());
        populations.subjects.push(Population { target: AssignmentTarget::SubjectTeachers(code), label, members });
    }

    let profiles: Vec<(String, i64)> = person_profiles::table
        .filter(person_profiles::uai.eq(school))
        .select((person_profiles::profile, person_profiles::person_id))
        .load(conn)?;
    for (code, members) in count_present(profiles, &present) {
        if let Ok(profile) = Profile::parse(&code) {
            let label = profile_label(profile).to_owned();
            populations.profiles.push(Population { target: AssignmentTarget::Profile(profile), label, members });
        }
    }
    Ok(populations)
}

/// Distinct present people per code, by code.
fn count_present(pairs: Vec<(String, i64)>, present: &HashSet<i64>) -> BTreeMap<String, i64> {
    let mut people: BTreeMap<String, HashSet<i64>> = BTreeMap::new();
    for (code, person) in pairs.into_iter().filter(|(_, person)| present.contains(person)) {
        people.entry(code).or_default().insert(person);
    }
    people.into_iter().map(|(code, set)| (code, set.len() as i64)).collect()
}

/// A profile as the console names it.
pub fn profile_label(profile: Profile) -> &'static str {
    match profile {
        Profile::Pupil => "Tous les élèves",
        Profile::Teacher => "Tous les enseignants",
        Profile::Librarian => "Tous les professeurs documentalistes",
        Profile::Management => "Toute l'équipe de direction",
        Profile::SchoolLife => "Toute la vie scolaire",
        Profile::SchoolStaff => "Tous les personnels administratifs et techniques",
        Profile::LocalAuthority => "Tous les personnels de la collectivité",
    }
}

/// A person of the school, as search results and the person page show them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonSummary {
    pub person_id: i64,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    pub first_name: String,
    pub last_name: String,
    pub profiles: Vec<Profile>,
    /// Codes of the person's classes in the school.
    pub classes: Vec<String>,
}

impl PersonSummary {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// People of the school whose name (first, last, or both in either order) or identifier contains
/// every word of `query`, case-insensitively; at most `limit`, by name.
pub fn search(conn: &mut AnyConnection, uai: &Uai, query: &str, limit: i64) -> Result<Vec<PersonSummary>, StoreError> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|word| format!("%{}%", word.to_lowercase().replace(['%', '_', '\\'], "")))
        .filter(|pattern| pattern.len() > 2)
        .take(4)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let in_school =
        person_profiles::table.filter(person_profiles::uai.eq(uai.as_str())).select(person_profiles::person_id);
    let mut found = persons::table
        .filter(persons::id.eq_any(in_school))
        .filter(persons::removed_at.is_null())
        .order((persons::last_name, persons::first_name, persons::id))
        .limit(limit)
        .select(persons::id)
        .into_boxed();
    for pattern in words {
        found = found.filter(
            lower(persons::last_name)
                .like(pattern.clone())
                .or(lower(persons::first_name).like(pattern.clone()))
                .or(lower(persons::gar_id).like(pattern)),
        );
    }
    let ids: Vec<i64> = found.load(conn)?;
    summaries(conn, uai, &ids)
}

/// A person of the school by GARPersonIdentifiant (within the school's ENT project).
pub fn find_person(conn: &mut AnyConnection, uai: &Uai, gar_id: &str) -> Result<Option<PersonSummary>, StoreError> {
    let in_school =
        person_profiles::table.filter(person_profiles::uai.eq(uai.as_str())).select(person_profiles::person_id);
    let ent = super::schema::establishments::table.find(uai.as_str()).select(super::schema::establishments::ent_id);
    let ids: Vec<i64> = persons::table
        .filter(persons::ent_id.eq_any(ent))
        .filter(persons::gar_id.eq(gar_id))
        .filter(persons::id.eq_any(in_school))
        .filter(persons::removed_at.is_null())
        .select(persons::id)
        .load(conn)?;
    Ok(summaries(conn, uai, &ids)?.into_iter().next())
}

/// Summaries of the given people in a school, in the order given.
pub fn summaries(conn: &mut AnyConnection, uai: &Uai, ids: &[i64]) -> Result<Vec<PersonSummary>, StoreError> {
    let rows: Vec<(i64, String, String, String)> = persons::table
        .filter(persons::id.eq_any(ids))
        .select((persons::id, persons::gar_id, persons::first_name, persons::last_name))
        .load(conn)?;
    let mut by_id: HashMap<i64, PersonSummary> = rows
        .into_iter()
        .map(|(person_id, gar_id, first_name, last_name)| {
            (
                person_id,
                PersonSummary { person_id, gar_id, first_name, last_name, profiles: Vec::new(), classes: Vec::new() },
            )
        })
        .collect();
    let profiles: Vec<(i64, String)> = person_profiles::table
        .filter(person_profiles::uai.eq(uai.as_str()))
        .filter(person_profiles::person_id.eq_any(ids))
        .select((person_profiles::person_id, person_profiles::profile))
        .load(conn)?;
    for (id, code) in profiles {
        if let (Some(person), Ok(profile)) = (by_id.get_mut(&id), Profile::parse(&code)) {
            person.profiles.push(profile);
        }
    }
    let classes: Vec<(i64, String)> = person_groups::table
        .inner_join(school_groups::table)
        .filter(school_groups::uai.eq(uai.as_str()))
        .filter(school_groups::status.eq(GroupStatus::Division.code()))
        .filter(person_groups::person_id.eq_any(ids))
        .select((person_groups::person_id, school_groups::code))
        .load(conn)?;
    for (id, code) in classes {
        if let Some(person) = by_id.get_mut(&id) {
            person.classes.push(code);
        }
    }
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|mut person| {
            person.profiles.sort();
            person.classes.sort();
            person
        })
        .collect())
}

/// "Prénom NOM" of people of an ENT project, by GARPersonIdentifiant.
pub fn names(conn: &mut AnyConnection, ent_id: &str, gar_ids: &[&str]) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String, String)> = persons::table
        .filter(persons::ent_id.eq(ent_id))
        .filter(persons::gar_id.eq_any(gar_ids))
        .select((persons::gar_id, persons::first_name, persons::last_name))
        .load(conn)?;
    Ok(rows.into_iter().map(|(gar_id, first, last)| (gar_id, format!("{first} {last}"))).collect())
}

/// People present in a school, by the publics their profiles count in.
pub fn people_by_public(
    conn: &mut AnyConnection,
    uai: &Uai,
) -> Result<BTreeMap<crate::domain::Public, HashSet<i64>>, StoreError> {
    let rows: Vec<(i64, String)> = person_profiles::table
        .inner_join(persons::table)
        .filter(person_profiles::uai.eq(uai.as_str()))
        .filter(persons::removed_at.is_null())
        .select((person_profiles::person_id, person_profiles::profile))
        .load(conn)?;
    let mut people: BTreeMap<crate::domain::Public, HashSet<i64>> = BTreeMap::new();
    for (person, code) in rows {
        if let Ok(profile) = Profile::parse(&code) {
            people.entry(profile.public()).or_default().insert(person);
        }
    }
    Ok(people)
}
