//! People the demo ENT page offers to sign in as: in each school, the first pupil, teacher and
//! teacher-librarian (by GARPersonIdentifiant), read from whatever directory is loaded.

use std::collections::HashMap;

use diesel::dsl::min;
use diesel::prelude::*;

use crate::domain::Profile;
use crate::store::schema::{establishments, person_profiles, persons};
use crate::store::{AnyConnection, StoreError};

/// Someone to show the médiacentre for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Persona {
    pub ent_id: String,
    pub gar_id: String,
    pub uai: String,
    pub school: String,
    pub profile: Profile,
}

/// Ordered by ENT project, school, then pupil, teacher, librarian.
pub fn personas(conn: &mut AnyConnection) -> Result<Vec<Persona>, StoreError> {
    let wanted = [Profile::Pupil, Profile::Teacher, Profile::Librarian];
    let firsts: Vec<(String, String, Option<String>)> = person_profiles::table
        .inner_join(persons::table)
        .filter(person_profiles::profile.eq_any(wanted.map(Profile::code)))
        .filter(persons::removed_at.is_null())
        .group_by((person_profiles::uai, person_profiles::profile))
        .select((person_profiles::uai, person_profiles::profile, min(persons::gar_id)))
        .load(conn)?;
    let schools: HashMap<String, (String, String)> = establishments::table
        .select((establishments::uai, (establishments::ent_id, establishments::name)))
        .load::<(String, (String, String))>(conn)?
        .into_iter()
        .collect();
    let mut found: Vec<Persona> = firsts
        .into_iter()
        .filter_map(|(uai, profile, gar_id)| {
            let (ent_id, school) = schools.get(&uai)?.clone();
            Some(Persona { ent_id, gar_id: gar_id?, uai, school, profile: Profile::parse(&profile).ok()? })
        })
        .collect();
    found.sort_by(|a, b| (&a.ent_id, &a.uai, a.profile).cmp(&(&b.ent_id, &b.uai, b.profile)));
    Ok(found)
}
