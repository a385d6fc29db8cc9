//! Reading release and turnaway events back: the details the sign-on capability writes
//! (`{"resource", "publisher", "sp", "contract": {"id", "version"}, "attributes", "assertion"}`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::domain::audit::{AuditKind, StoredEvent};

/// A release contract version, as events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContractRef {
    pub id: i64,
    pub version: i64,
}

#[derive(Deserialize)]
struct Details {
    resource: Option<String>,
    publisher: Option<String>,
    sp: Option<String>,
    contract: Option<ContractRef>,
    #[serde(default)]
    attributes: Vec<String>,
}

/// One release (personal data sent to a publisher) or turnaway (access refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    pub seq: i64,
    pub at: NaiveDateTime,
    /// `true` for a release, `false` for a turnaway.
    pub released: bool,
    pub ent_id: Option<String>,
    pub uai: Option<String>,
    pub subject: Option<String>,
    pub resource: Option<String>,
    pub publisher: Option<String>,
    pub service_provider: Option<String>,
    pub contract: Option<ContractRef>,
    /// Attribute names, sorted.
    pub attributes: Vec<String>,
}

impl Trace {
    /// The trace an event records, if it is a release or turnaway with readable details.
    pub fn parse(event: &StoredEvent) -> Option<Self> {
        let released = if event.kind == AuditKind::Release.code() {
            true
        } else if event.kind == AuditKind::Turnaway.code() {
            false
        } else {
            return None;
        };
        let details: Details = serde_json::from_str(&event.details).ok()?;
        let mut attributes = details.attributes;
        attributes.sort();
        attributes.dedup();
        Some(Self {
            seq: event.seq,
            at: event.at,
            released,
            ent_id: event.ent_id.clone(),
            uai: event.uai.clone(),
            subject: event.subject.clone(),
            resource: details.resource,
            publisher: details.publisher,
            service_provider: details.sp,
            contract: details.contract,
            attributes,
        })
    }
}

/// A publisher that received personal data, from release traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub publisher: String,
    pub releases: usize,
    pub first: NaiveDateTime,
    pub last: NaiveDateTime,
    pub service_providers: BTreeSet<String>,
}

/// The publishers the releases went to, by publisher id.
pub fn recipients<'a>(traces: impl IntoIterator<Item = &'a Trace>) -> Vec<Recipient> {
    let mut by_publisher: BTreeMap<&str, Recipient> = BTreeMap::new();
    for trace in traces.into_iter().filter(|trace| trace.released) {
        let Some(publisher) = trace.publisher.as_deref() else { continue };
        let recipient = by_publisher.entry(publisher).or_insert_with(|| Recipient {
            publisher: publisher.to_owned(),
            releases: 0,
            first: trace.at,
            last: trace.at,
            service_providers: BTreeSet::new(),
        });
        recipient.releases += 1;
        recipient.first = recipient.first.min(trace.at);
        recipient.last = recipient.last.max(trace.at);
        recipient.service_providers.extend(trace.service_provider.clone());
    }
    by_publisher.into_values().collect()
}
