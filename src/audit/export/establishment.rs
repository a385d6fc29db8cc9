//! Per-establishment activity over a period: the school's audit events counted by kind and day,
//! releases and turnaways by publisher and resource (with how many distinct people), and every
//! administrative change (assignments, feeds, subscriptions…) with who made it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use super::table::Table;
use super::{Document, ExportFile, ExportKind, Period, header, iso, sheet, stamp};
use crate::audit::error::AuditError;
use crate::audit::traces::Trace;
use crate::domain::audit::{AuditKind, StoredEvent};
use crate::store::audit::PeriodFilter;
use crate::store::{AnyConnection, audit, read_snapshot, reports};

const BATCH: i64 = 10_000;

/// Releases or turnaways of one resource.
#[derive(Default)]
struct Access {
    count: u64,
    people: BTreeSet<String>,
}

#[derive(Default)]
struct Activity {
    by_kind: BTreeMap<String, u64>,
    daily: BTreeMap<(NaiveDate, String), u64>,
    /// (released, publisher, resource) → access.
    access: BTreeMap<(bool, String, String), Access>,
    /// (day, released, publisher, resource) → count, for the CSV.
    daily_access: BTreeMap<(NaiveDate, bool, String, String), u64>,
    /// Events that are neither access traces nor seat movements, in order.
    changes: Vec<StoredEvent>,
    people: BTreeSet<String>,
}

impl Activity {
    fn add(&mut self, event: StoredEvent) {
        *self.by_kind.entry(event.kind.clone()).or_default() += 1;
        *self.daily.entry((event.at.date(), event.kind.clone())).or_default() += 1;
        if let Some(trace) = Trace::parse(&event) {
            let publisher = trace.publisher.unwrap_or_default();
            let resource = trace.resource.unwrap_or_default();
            *self
                .daily_access
                .entry((event.at.date(), trace.released, publisher.clone(), resource.clone()))
                .or_default() += 1;
            let access = self.access.entry((trace.released, publisher, resource)).or_default();
            access.count += 1;
            if let Some(subject) = trace.subject {
                access.people.insert(subject.clone());
                if trace.released {
                    self.people.insert(subject);
                }
            }
        } else if !event.kind.starts_with("seat.") {
            self.changes.push(event);
        }
    }
}

/// Builds the activity report of school `uai` over `period`.
pub fn build(conn: &mut AnyConnection, uai: &str, period: Period, now: NaiveDateTime) -> Result<Document, AuditError> {
    let (name, activity, publishers, resources) = read_snapshot(conn, |conn| {
        let name = reports::establishment_name(conn, uai)?;
        let filter = PeriodFilter {
            from: Some(period.start()),
            until: Some(period.end()),
            uai: Some(uai),
            ..Default::default()
        };
        let mut activity = Activity::default();
        let mut after = 0;
        loop {
            let page = audit::events_matching(conn, &filter, after, BATCH)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            page.into_iter().for_each(|event| activity.add(event));
        }
        if name.is_none() && activity.by_kind.is_empty() {
            return Err(AuditError::UnknownEstablishment(uai.to_owned()));
        }
        let publishers = reports::publisher_names(conn, activity.access.keys().map(|(_, p, _)| p.as_str()))?;
        let resources = reports::resource_names(conn, activity.access.keys().map(|(_, _, r)| r.as_str()))?;
        Ok::<_, AuditError>((name, activity, publishers, resources))
    })?;

    let access_json = |released: bool| -> Vec<Value> {
        activity
            .access
            .iter()
            .filter(|((r, _, _), _)| *r == released)
            .map(|((_, publisher, resource), access)| {
                json!({
                    "publisher": publisher,
                    "publisherName": publishers.get(publisher),
                    "resource": resource,
                    "resourceName": resources.get(resource),
                    "count": access.count,
                    "people": access.people.len(),
                })
            })
            .collect()
    };
    let mut document = header(ExportKind::EstablishmentActivity, "Activité d'un établissement / School activity", now);
    document["uai"] = json!(uai);
    document["name"] = json!(name);
    document["period"] = period.json();
    let json = json!({
        "document": document,
        "summary": {
            "events": activity.by_kind.values().sum::<u64>(),
            "byKind": activity.by_kind,
            "peopleWithReleases": activity.people.len(),
        },
        "releases": access_json(true),
        "turnaways": access_json(false),
        "daily": activity.daily.iter().map(|((day, kind), count)| json!({ "date": day.to_string(), "kind": kind, "count": count })).collect::<Vec<_>>(),
        "changes": activity.changes.iter().map(|event| json!({
            "auditEvent": event.seq,
            "at": iso(event.at),
            "kind": event.kind,
            "actor": event.actor,
            "details": serde_json::from_str::<Value>(&event.details).unwrap_or(Value::Null),
        })).collect::<Vec<_>>(),
    });

    let mut table = Table::new(&[
        "Date (UTC)",
        "Type",
        "Acteur / Actor",
        "Éditeur / Publisher",
        "Ressource / Resource",
        "Nombre / Count",
        "Détails / Details",
    ]);
    let release = AuditKind::Release.code();
    let turnaway = AuditKind::Turnaway.code();
    for ((day, released, publisher, resource), count) in &activity.daily_access {
        let resource_name = resources.get(resource).map_or(resource.clone(), |name| format!("{name} ({resource})"));
        let publisher_name =
            publishers.get(publisher).map_or(publisher.clone(), |name| format!("{name} ({publisher})"));
        let kind = if *released { release } else { turnaway };
        table.row([
            day.to_string(),
            kind.into(),
            String::new(),
            publisher_name,
            resource_name,
            count.to_string(),
            String::new(),
        ]);
    }
    for event in &activity.changes {
        table.row([
            sheet(event.at),
            event.kind.clone(),
            event.actor.clone(),
            String::new(),
            String::new(),
            "1".into(),
            event.details.clone(),
        ]);
    }
    let stem = format!("establishment-activity-{uai}-{}-{}-{}", period.from, period.to, stamp(now));
    Ok(Document {
        kind: ExportKind::EstablishmentActivity,
        files: vec![ExportFile::json(&stem, &json), ExportFile::csv(&stem, table.finish())],
        about: json!({ "uai": uai, "period": period.json() }),
        ent_id: None,
        uai: Some(uai.to_owned()),
        subject: None,
    })
}
