//! The demo académie (placeholder until the loader lands).

use std::fmt;

use crate::store::partners::CallerKind;
use crate::store::{AnyConnection, StoreError};

pub struct Loaded {
    pub ents: Vec<String>,
    pub distributors: Vec<String>,
}

impl Loaded {
    pub fn callers(&self) -> Vec<(CallerKind, String)> {
        let ents = self.ents.iter().map(|id| (CallerKind::Ent, id.clone()));
        ents.chain(self.distributors.iter().map(|id| (CallerKind::Distributor, id.clone()))).collect()
    }
}

impl fmt::Display for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ENT projects, {} distributors", self.ents.len(), self.distributors.len())
    }
}

pub fn load(conn: &mut AnyConnection) -> Result<Loaded, StoreError> {
    crate::store::partners::insert_ent_project(conn, "Z0", "ENT démo")?;
    Ok(Loaded { ents: vec!["Z0".into()], distributors: vec![] })
}
