//! Schools as distributors see them: the national directory attributes (nature, type, commune,
//! académie…) of each known school, loaded from the national directory, and the schools list; display
//! names by UAI for other capabilities.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;

use super::schema::establishments;
use super::{AnyConnection, StoreError, write_transaction};
use crate::domain::national_school::NationalSchool;

/// A known school with what `etablissements.xml` shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedSchool {
    pub uai: String,
    /// The ENT project the school belongs to (idENT, plain).
    pub ent_id: String,
    /// GARStructureNomCourant, from the ENT feed.
    pub name: String,
    /// National directory values, in `national_school::COLUMNS` order.
    pub national: [Option<String>; 14],
}

type NationalRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every known school, in UAI order.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<ListedSchool>, StoreError> {
    let rows: Vec<(String, String, String, NationalRow)> = establishments::table
        .order(establishments::uai)
        .select((
            establishments::uai,
            establishments::ent_id,
            establishments::name,
            (
                establishments::nature_code,
                establishments::nature_label,
                establishments::type_code,
                establishments::type_label,
                establishments::commune_code,
                establishments::commune_label,
                establishments::academy_code,
                establishments::academy_label,
                establishments::department_code,
                establishments::department_label,
                establishments::official_name,
                establishments::patronym,
                establishments::postal_code,
                establishments::locality,
            ),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(uai, ent_id, name, n)| ListedSchool {
            uai,
            ent_id,
            name,
            national: [n.0, n.1, n.2, n.3, n.4, n.5, n.6, n.7, n.8, n.9, n.10, n.11, n.12, n.13],
        })
        .collect())
}

/// Writes the national attributes of the schools Sesame knows (those an ENT project fed), in one
/// transaction. Returns the UAIs that are not known: their rows are not kept, since a school
/// with no ENT project has nobody to give access to; import again after its ENT's first feed.
/// `progress` is called with the number of rows done so far.
pub fn update_national(
    conn: &mut AnyConnection,
    schools: &[NationalSchool],
    mut progress: impl FnMut(usize),
) -> Result<Vec<String>, StoreError> {
    write_transaction(conn, |conn| {
        let now = Utc::now().naive_utc();
        let mut unknown = Vec::new();
        for (done, school) in schools.iter().enumerate() {
            let v = |i: usize| school.values[i].as_deref();
            let updated = diesel::update(establishments::table.find(school.uai.as_str()))
                .set((
                    establishments::nature_code.eq(v(0)),
                    establishments::nature_label.eq(v(1)),
                    establishments::type_code.eq(v(2)),
                    establishments::type_label.eq(v(3)),
                    establishments::commune_code.eq(v(4)),
                    establishments::commune_label.eq(v(5)),
                    establishments::academy_code.eq(v(6)),
                    establishments::academy_label.eq(v(7)),
                    establishments::department_code.eq(v(8)),
                    establishments::department_label.eq(v(9)),
                    establishments::official_name.eq(v(10)),
                    establishments::patronym.eq(v(11)),
                    establishments::postal_code.eq(v(12)),
                    establishments::locality.eq(v(13)),
                    establishments::updated_at.eq(now),
                ))
                .execute(conn)?;
            if updated == 0 {
                unknown.push(school.uai.to_string());
            }
            if (done + 1) % 1000 == 0 {
                progress(done + 1);
            }
        }
        progress(schools.len());
        Ok(unknown)
    })
}

/// The degree (1 or 2) of each of `uais` that is known.
pub fn degrees(conn: &mut AnyConnection, uais: &[&str]) -> Result<HashMap<String, i32>, StoreError> {
    let rows: Vec<(String, i32)> = establishments::table
        .filter(establishments::uai.eq_any(uais))
        .select((establishments::uai, establishments::degree))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// `GARStructureNomCourant` of each of `uais` that `ent_id` has.
pub fn names(conn: &mut AnyConnection, ent_id: &str, uais: &[&str]) -> Result<HashMap<String, String>, StoreError> {
    Ok(establishments::table
        .filter(establishments::ent_id.eq(ent_id))
        .filter(establishments::uai.eq_any(uais))
        .select((establishments::uai, establishments::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
