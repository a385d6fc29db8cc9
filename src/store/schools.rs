//! Schools as other capabilities name them: display names by UAI.

use std::collections::HashMap;

use diesel::prelude::*;

use super::schema::establishments;
use super::{AnyConnection, StoreError};

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
