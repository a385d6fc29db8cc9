//! Assignment managers (GARRespAff) as the console needs them: who they are, where they assign.

use diesel::prelude::*;

use super::schema::{assignment_manager_establishments, assignment_managers, establishments};
use super::{AnyConnection, StoreError};
use crate::domain::Uai;

/// A manager and the schools of their ENT project where they assign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manager {
    pub ent_id: String,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    pub first_name: String,
    pub last_name: String,
    /// (UAI, school name), by UAI.
    pub schools: Vec<(Uai, String)>,
}

impl Manager {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn manages(&self, uai: &Uai) -> bool {
        self.schools.iter().any(|(school, _)| school == uai)
    }
}

/// The manager `(ent_id, gar_id)`, with only the schools of that ENT project.
pub fn find(conn: &mut AnyConnection, ent_id: &str, gar_id: &str) -> Result<Option<Manager>, StoreError> {
    let row: Option<(i64, String, String)> = assignment_managers::table
        .filter(assignment_managers::ent_id.eq(ent_id))
        .filter(assignment_managers::gar_id.eq(gar_id))
        .select((assignment_managers::id, assignment_managers::first_name, assignment_managers::last_name))
        .first(conn)
        .optional()?;
    let Some((id, first_name, last_name)) = row else { return Ok(None) };
    let schools = schools_of(conn, &[id], ent_id)?.into_iter().map(|(_, uai, name)| (uai, name)).collect();
    Ok(Some(Manager { ent_id: ent_id.to_owned(), gar_id: gar_id.to_owned(), first_name, last_name, schools }))
}

/// (manager id, UAI, school name) for the given managers, keeping schools of their ENT project.
fn schools_of(conn: &mut AnyConnection, ids: &[i64], ent_id: &str) -> Result<Vec<(i64, Uai, String)>, StoreError> {
    let rows: Vec<(i64, String, String)> = assignment_manager_establishments::table
        .inner_join(establishments::table)
        .filter(assignment_manager_establishments::manager_id.eq_any(ids))
        .filter(establishments::ent_id.eq(ent_id))
        .order(establishments::uai)
        .select((assignment_manager_establishments::manager_id, establishments::uai, establishments::name))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, uai, name)| Some((id, Uai::parse(&uai).ok()?, name))).collect())
}

/// Every manager, by ENT project and name: the demo login lists them.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<Manager>, StoreError> {
    let rows: Vec<(i64, String, String, String, String)> = assignment_managers::table
        .order((assignment_managers::ent_id, assignment_managers::last_name, assignment_managers::first_name))
        .select((
            assignment_managers::id,
            assignment_managers::ent_id,
            assignment_managers::gar_id,
            assignment_managers::first_name,
            assignment_managers::last_name,
        ))
        .load(conn)?;
    let mut managers = Vec::with_capacity(rows.len());
    for (id, ent_id, gar_id, first_name, last_name) in rows {
        let schools = schools_of(conn, &[id], &ent_id)?.into_iter().map(|(_, uai, name)| (uai, name)).collect();
        managers.push(Manager { ent_id, gar_id, first_name, last_name, schools });
    }
    Ok(managers)
}

/// Display names of the given managers of one ENT project, by GARPersonIdentifiant.
pub fn names(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_ids: &[&str],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String, String)> = assignment_managers::table
        .filter(assignment_managers::ent_id.eq(ent_id))
        .filter(assignment_managers::gar_id.eq_any(gar_ids))
        .select((assignment_managers::gar_id, assignment_managers::first_name, assignment_managers::last_name))
        .load(conn)?;
    Ok(rows.into_iter().map(|(gar_id, first, last)| (gar_id, format!("{first} {last}"))).collect())
}
