//! Who makes a ledger change: recorded in the history and in every audit event of the change.

use chrono::{NaiveDateTime, Utc};

use crate::domain::audit::Actor;
use crate::domain::pseudonym::Pseudonyms;

/// The author of a change, how people are named in its audit events, and when it happens.
pub struct Author<'a> {
    pub actor: Actor,
    /// What `assignments.created_by` / `revoked_by` record: a manager's GARPersonIdentifiant,
    /// else the actor string.
    pub name: String,
    /// Turns a person into the audit `subject` (never their identifier in clear).
    pub pseudonyms: &'a Pseudonyms,
    pub now: NaiveDateTime,
}

impl<'a> Author<'a> {
    /// An assignment manager working in the console.
    pub fn manager(ent_id: &str, gar_id: &str, pseudonyms: &'a Pseudonyms) -> Self {
        Self { actor: Actor::manager(ent_id, gar_id), name: gar_id.to_owned(), pseudonyms, now: Utc::now().naive_utc() }
    }

    /// An ENT project's directory feed: people joined or left collections.
    pub fn feed(ent_id: &str, pseudonyms: &'a Pseudonyms) -> Self {
        Self::new(Actor::ent(ent_id), pseudonyms)
    }

    /// Any other actor (a distributor raising a total, an operator).
    pub fn new(actor: Actor, pseudonyms: &'a Pseudonyms) -> Self {
        Self { name: actor.as_str().to_owned(), actor, pseudonyms, now: Utc::now().naive_utc() }
    }

    /// The same author at another moment (tests, replays).
    pub fn at(mut self, now: NaiveDateTime) -> Self {
        self.now = now;
        self
    }

    /// The audit subject of a person of `ent_id`.
    pub fn subject(&self, ent_id: &str, gar_id: &str) -> String {
        self.pseudonyms.audit_subject(ent_id, gar_id)
    }
}
