//! Data-subject access (GDPR art. 15): everything Sesame holds about one person — identity data,
//! schools, profiles, classes and groups, entitlements, seats, and every release (when, to which
//! publisher and resource, which attribute names, under which contract version) — in JSON and in
//! a CSV a person can read, with French and English labels.
//!
//! The person is found from their ENT project and GARPersonIdentifiant; audit events name them by
//! their audit pseudonym, so the export also works after the directory record is gone.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::table::Table;
use super::{Document, ExportFile, ExportKind, header, iso, json_list, list_text, sheet, stamp};
use crate::audit::error::AuditError;
use crate::audit::traces::{Trace, recipients};
use crate::config::{Config, RetentionConfig};
use crate::domain::audit::{AuditKind, StoredEvent};
use crate::domain::entitlement::Clock;
use crate::domain::pseudonym::Pseudonyms;
use crate::store::person_data::{self, Memberships, PersonRecord, SeatRecord, SubscriptionRef};
use crate::store::{AnyConnection, audit, read_snapshot, reports};

/// Section titles, French / English; the JSON carries them under `labels`.
const LABELS: [(&str, &str); 14] = [
    ("identity", "Identité / Identity"),
    ("assignmentManager", "Responsable d'affectation / Assignment manager"),
    ("schools", "Établissements et profils / Schools and profiles"),
    ("classesAndGroups", "Classes et groupes / Classes and groups"),
    ("teaching", "Enseignements, niveaux et postes / Subjects, levels and posts"),
    ("entitlements", "Ressources accessibles / Resources available"),
    ("seats", "Licences attribuées / Licences assigned"),
    ("releases", "Transmissions aux éditeurs / Data sent to publishers"),
    ("turnaways", "Accès refusés / Access refused"),
    ("recipients", "Destinataires / Recipients"),
    ("otherEvents", "Autres traces / Other records"),
    ("sessions", "Sessions ouvertes / Open sessions"),
    ("retention", "Durées de conservation / Retention periods"),
    ("document", "Document"),
];

const NOTICE: &str = "Ce document liste les données que Sesame, gestionnaire d'accès aux ressources numériques, détient \
sur vous, et à quels éditeurs elles ont été transmises. Pour les faire rectifier ou effacer, adressez-vous à votre \
établissement (responsable du traitement). / This document lists the data Sesame, the digital resource access broker, \
holds about you and which publishers received it. To have it corrected or erased, contact your school (the data \
controller).";

/// Builds the export for the person `gar_id` of ENT project `ent_id`.
pub fn build(
    conn: &mut AnyConnection,
    pseudonyms: &Pseudonyms,
    config: &Config,
    ent_id: &str,
    gar_id: &str,
    now: NaiveDateTime,
) -> Result<Document, AuditError> {
    let retention = &config.retention;
    let subject = pseudonyms.audit_subject(ent_id, gar_id);
    let clock = Clock::new(now, config.licences.deletion_grace_days);
    let held = read_snapshot(conn, |conn| Held::read(conn, ent_id, gar_id, &subject, clock))?;
    if held.person.is_none() && held.events.is_empty() && held.manager.is_none() {
        return Err(AuditError::UnknownPerson { ent_id: ent_id.into(), gar_id: gar_id.into() });
    }
    let stem = format!("data-subject-{ent_id}-{subject}-{}", stamp(now));
    let json = held.json(ent_id, gar_id, &subject, retention, now);
    let csv = held.csv(&json);
    Ok(Document {
        kind: ExportKind::DataSubject,
        files: vec![ExportFile::json(&stem, &json), ExportFile::csv(&stem, csv)],
        about: json!({ "entProject": ent_id }),
        ent_id: Some(ent_id.into()),
        uai: None,
        subject: Some(subject),
    })
}

/// Everything read, on one snapshot.
struct Held {
    person: Option<PersonRecord>,
    memberships: Memberships,
    seats: Vec<SeatRecord>,
    school_wide: Vec<person_data::SchoolWideAccess>,
    manager: Option<person_data::ManagerRecord>,
    sessions: Vec<(String, NaiveDateTime, NaiveDateTime)>,
    events: Vec<StoredEvent>,
    traces: Vec<Trace>,
    publishers: BTreeMap<String, String>,
    resources: BTreeMap<String, String>,
    schools: BTreeMap<String, String>,
}

impl Held {
    fn read(
        conn: &mut AnyConnection,
        ent_id: &str,
        gar_id: &str,
        subject: &str,
        clock: Clock,
    ) -> Result<Self, AuditError> {
        let person = person_data::find_person(conn, ent_id, gar_id)?;
        let (memberships, seats, school_wide) = match &person {
            Some(person) => (
                person_data::memberships(conn, person.id)?,
                person_data::seats(conn, person.id)?,
                person_data::school_wide_access(conn, ent_id, gar_id, clock)?,
            ),
            None => Default::default(),
        };
        let events = audit::events_of_subject(conn, subject)?;
        let traces: Vec<Trace> = events.iter().filter_map(Trace::parse).collect();
        let publishers = reports::publisher_names(conn, traces.iter().filter_map(|t| t.publisher.as_deref()))?;
        let resources = reports::resource_names(conn, traces.iter().filter_map(|t| t.resource.as_deref()))?;
        let mut schools = memberships.schools.clone();
        for uai in traces.iter().filter_map(|t| t.uai.as_deref()) {
            if !schools.contains_key(uai)
                && let Some(name) = reports::establishment_name(conn, uai)?
            {
                schools.insert(uai.to_owned(), name);
            }
        }
        Ok(Self {
            manager: person_data::manager_record(conn, ent_id, gar_id)?,
            sessions: person_data::sessions(conn, ent_id, gar_id)?,
            person,
            memberships,
            seats,
            school_wide,
            events,
            traces,
            publishers,
            resources,
            schools,
        })
    }

    fn name<'a>(names: &'a BTreeMap<String, String>, id: Option<&str>) -> Option<&'a String> {
        id.and_then(|id| names.get(id))
    }

    fn json(
        &self,
        ent_id: &str,
        gar_id: &str,
        subject: &str,
        retention: &RetentionConfig,
        now: NaiveDateTime,
    ) -> Value {
        let m = &self.memberships;
        let mut document = header(
            ExportKind::DataSubject,
            "Données personnelles détenues par Sesame / Personal data held by Sesame",
            now,
        );
        document["entProject"] = json!(ent_id);
        document["personId"] = json!(gar_id);
        document["auditPseudonym"] = json!(subject);
        document["notice"] = json!(NOTICE);
        let schools: Vec<Value> = m
            .schools
            .iter()
            .map(|(uai, name)| {
                let profiles: Vec<&str> =
                    m.profiles.iter().filter(|(at, _)| at == uai).map(|(_, profile)| profile.as_str()).collect();
                json!({ "uai": uai, "name": name, "profiles": profiles })
            })
            .collect();
        let coded = |items: &[person_data::Coded]| -> Vec<Value> {
            items.iter().map(|c| json!({ "uai": c.uai, "code": c.code, "label": c.label })).collect()
        };
        let releases: Vec<Value> = self
            .traces
            .iter()
            .filter(|t| t.released)
            .map(|t| {
                json!({
                    "at": iso(t.at),
                    "publisher": t.publisher,
                    "publisherName": Self::name(&self.publishers, t.publisher.as_deref()),
                    "resource": t.resource,
                    "resourceName": Self::name(&self.resources, t.resource.as_deref()),
                    "serviceProvider": t.service_provider,
                    "uai": t.uai,
                    "schoolName": Self::name(&self.schools, t.uai.as_deref()),
                    "attributes": t.attributes,
                    "contract": t.contract,
                    "auditEvent": t.seq,
                })
            })
            .collect();
        let turnaways: Vec<Value> = self
            .traces
            .iter()
            .filter(|t| !t.released)
            .map(|t| {
                json!({
                    "at": iso(t.at),
                    "resource": t.resource,
                    "resourceName": Self::name(&self.resources, t.resource.as_deref()),
                    "uai": t.uai,
                    "schoolName": Self::name(&self.schools, t.uai.as_deref()),
                    "auditEvent": t.seq,
                })
            })
            .collect();
        let recipients: Vec<Value> = recipients(&self.traces)
            .into_iter()
            .map(|r| {
                json!({
                    "publisher": r.publisher,
                    "name": self.publishers.get(&r.publisher),
                    "releases": r.releases,
                    "firstRelease": iso(r.first),
                    "lastRelease": iso(r.last),
                    "serviceProviders": r.service_providers,
                })
            })
            .collect();
        let traces = [AuditKind::Release.code(), AuditKind::Turnaway.code()];
        let other_events: Vec<Value> = self
            .events
            .iter()
            .filter(|e| !traces.contains(&e.kind.as_str()))
            .map(|e| json!({ "at": iso(e.at), "kind": e.kind, "uai": e.uai, "auditEvent": e.seq }))
            .collect();
        json!({
            "document": document,
            "identity": self.person.as_ref().map(identity),
            "assignmentManager": self.manager.as_ref().map(|manager| json!({
                "lastName": manager.last_name,
                "firstName": manager.first_name,
                "civility": manager.civility,
                "mails": json_list(&manager.mails),
                "schools": manager.establishments,
            })),
            "schools": schools,
            "classesAndGroups": m.groups.iter().map(|g| json!({
                "uai": g.uai, "code": g.code, "label": g.label, "kind": g.status,
            })).collect::<Vec<_>>(),
            "teaching": {
                "levels": coded(&m.mefs),
                "levelsFirstDegree": m.mefstat4.iter().map(|(uai, code)| json!({ "uai": uai, "code": code })).collect::<Vec<_>>(),
                "subjectsFollowed": coded(&m.pupil_subjects),
                "posts": m.teacher_posts.iter().map(|(uai, code, kind)| json!({ "uai": uai, "code": code, "kind": kind })).collect::<Vec<_>>(),
                "subjectsTaught": m.taught_subjects.iter().map(|t| json!({
                    "uai": t.uai, "group": t.group_code, "subject": t.subject_code, "label": t.subject_label,
                })).collect::<Vec<_>>(),
            },
            "entitlements": self.entitlements(),
            "seats": self.seats.iter().map(|seat| json!({
                "uai": seat.uai,
                "resource": seat.subscription.resource_id,
                "resourceName": seat.subscription.resource_label,
                "public": seat.public,
                "status": seat.status,
                "grantedAt": iso(seat.granted_at),
                "releasedAt": seat.released_at.map(iso),
                "releaseReason": seat.release_reason,
                "assignedThrough": seat.target_kind,
                "subscription": subscription(&seat.subscription),
            })).collect::<Vec<_>>(),
            "releases": releases,
            "turnaways": turnaways,
            "recipients": recipients,
            "otherEvents": other_events,
            "sessions": self.sessions.iter().map(|(kind, created, expires)| json!({
                "kind": kind, "createdAt": iso(*created), "expiresAt": iso(*expires),
            })).collect::<Vec<_>>(),
            "retention": {
                "releaseTracesDays": retention.release_days,
                "otherAuditEventsDays": retention.audit_days,
                "afterLeavingTheDirectoryDays": retention.removed_person_grace_days,
                "assignmentHistorySchoolYears": retention.assignment_history_school_years,
            },
            "labels": LABELS.iter().map(|(key, label)| (key.to_string(), json!(label))).collect::<serde_json::Map<_, _>>(),
        })
    }

    /// What the person can open now: seats held or awaited, and school-wide access by profile.
    fn entitlements(&self) -> Vec<Value> {
        let seats = self.seats.iter().filter(|seat| seat.status != "RELEASED").map(|seat| {
            json!({
                "resource": seat.subscription.resource_id,
                "resourceName": seat.subscription.resource_label,
                "uai": seat.uai,
                "access": "seat",
                "status": seat.status,
                "since": iso(seat.granted_at),
                "subscription": subscription(&seat.subscription),
            })
        });
        let school_wide = self.school_wide.iter().map(|access| {
            json!({
                "resource": access.subscription.resource_id,
                "resourceName": access.subscription.resource_label,
                "uai": access.uai,
                "access": "school-wide",
                "profile": access.profiles.join(", "),
                "since": iso(access.subscription.valid_from),
                "subscription": subscription(&access.subscription),
            })
        });
        seats.chain(school_wide).collect()
    }

    /// The CSV: one row per fact, `section;date;item;value`, built from the JSON so both agree.
    fn csv(&self, json: &Value) -> Vec<u8> {
        let mut table = Table::new(&["Rubrique / Section", "Date (UTC)", "Élément / Item", "Valeur / Value"]);
        let label = |key: &str| LABELS.iter().find(|(k, _)| *k == key).map_or(key.to_owned(), |(_, l)| (*l).to_owned());
        if let Some(person) = &self.person {
            let section = label("identity");
            let rows: [(&str, String); 11] = [
                ("Identifiant / Identifier", person.gar_id.clone()),
                ("Annuaire / Directory", person.source.clone()),
                ("Nom / Last name", person.last_name.clone()),
                ("Nom de naissance / Birth name", person.birth_name.clone().unwrap_or_default()),
                ("Prénom / First name", person.first_name.clone()),
                ("Autres prénoms / Other first names", list_text(&person.other_first_names)),
                ("Civilité / Title", person.civility.clone().unwrap_or_default()),
                ("Date de naissance / Birth date", person.birth_date.map(|d| d.to_string()).unwrap_or_default()),
                ("Courriels / E-mails", list_text(&person.mails)),
                ("Établissement de rattachement / Home school", person.attachment_uai.clone().unwrap_or_default()),
                ("Reçu de l'ENT le / Received from the ENT on", sheet(person.created_at)),
            ];
            for (item, value) in rows {
                table.row([section.as_str(), "", item, value.as_str()]);
            }
            if let Some(removed) = person.removed_at {
                table.row([section.as_str(), &sheet(removed), "Retiré de l'annuaire / Removed from the directory", ""]);
            }
        }
        if let Some(manager) = &self.manager {
            let schools = manager.establishments.join(", ");
            table.row([label("assignmentManager").as_str(), "", "Établissements / Schools", schools.as_str()]);
        }
        for (uai, name) in &self.memberships.schools {
            let profiles: Vec<&str> =
                self.memberships.profiles.iter().filter(|(at, _)| at == uai).map(|(_, p)| p.as_str()).collect();
            table.row([
                label("schools").as_str(),
                "",
                &format!("{name} ({uai})"),
                &format!("Profils / Profiles: {}", profiles.join(", ")),
            ]);
        }
        for group in &self.memberships.groups {
            let item = format!("{} {} ({})", group.status, group.code, group.uai);
            table.row([label("classesAndGroups").as_str(), "", item.as_str(), group.label.as_str()]);
        }
        let teaching = label("teaching");
        let m = &self.memberships;
        for (kind, items) in [("MEF", &m.mefs), ("Enseignement suivi / Subject followed", &m.pupil_subjects)] {
            for c in items {
                table.row([
                    teaching.as_str(),
                    "",
                    &format!("{kind} {} ({})", c.code, c.uai),
                    c.label.as_deref().unwrap_or(""),
                ]);
            }
        }
        for (uai, code) in &m.mefstat4 {
            table.row([teaching.as_str(), "", &format!("MEFSTAT4 {code} ({uai})"), ""]);
        }
        for (uai, code, kind) in &m.teacher_posts {
            table.row([teaching.as_str(), "", &format!("Poste / Post {code} ({uai})"), kind.as_str()]);
        }
        for t in &m.taught_subjects {
            let item = format!("Enseigne / Teaches {} ({} {})", t.subject_code, t.uai, t.group_code);
            table.row([teaching.as_str(), "", item.as_str(), t.subject_label.as_deref().unwrap_or("")]);
        }
        for entitlement in json["entitlements"].as_array().into_iter().flatten() {
            let item = format!("{} ({})", text(&entitlement["resourceName"]), text(&entitlement["resource"]));
            let how = if entitlement["access"] == "seat" {
                format!("Licence / Seat {} ({})", text(&entitlement["status"]), text(&entitlement["uai"]))
            } else {
                format!(
                    "Accès établissement / School-wide, profil / profile {} ({})",
                    text(&entitlement["profile"]),
                    text(&entitlement["uai"])
                )
            };
            table.row([
                label("entitlements").as_str(),
                &sheet_text(&entitlement["since"]),
                item.as_str(),
                how.as_str(),
            ]);
        }
        for seat in &self.seats {
            let item = format!("{} ({})", seat.subscription.resource_label, seat.subscription.resource_id);
            let mut value = format!("{} ({}), {}", seat.status, seat.uai, seat.public);
            if let Some(released) = seat.released_at {
                value.push_str(&format!(", libérée le / released on {}", sheet(released)));
            }
            table.row([label("seats").as_str(), &sheet(seat.granted_at), item.as_str(), value.as_str()]);
        }
        for t in self.traces.iter().filter(|t| t.released) {
            let resource =
                Self::name(&self.resources, t.resource.as_deref()).cloned().or(t.resource.clone()).unwrap_or_default();
            let publisher = Self::name(&self.publishers, t.publisher.as_deref())
                .cloned()
                .or(t.publisher.clone())
                .unwrap_or_default();
            let contract =
                t.contract.map(|c| format!("; contrat / contract {} v{}", c.id, c.version)).unwrap_or_default();
            let value = format!("Attributs / Attributes: {}{contract}", t.attributes.join(", "));
            table.row([label("releases").as_str(), &sheet(t.at), &format!("{resource} — {publisher}"), value.as_str()]);
        }
        for t in self.traces.iter().filter(|t| !t.released) {
            let resource =
                Self::name(&self.resources, t.resource.as_deref()).cloned().or(t.resource.clone()).unwrap_or_default();
            table.row([label("turnaways").as_str(), &sheet(t.at), resource.as_str(), t.uai.as_deref().unwrap_or("")]);
        }
        for r in recipients(&self.traces) {
            let name = self.publishers.get(&r.publisher).cloned().unwrap_or_default();
            let value = format!("{} transmission(s) / release(s), {} → {}", r.releases, sheet(r.first), sheet(r.last));
            table.row([
                label("recipients").as_str(),
                &sheet(r.last),
                &format!("{name} ({})", r.publisher),
                value.as_str(),
            ]);
        }
        for event in json["otherEvents"].as_array().into_iter().flatten() {
            table.row([
                label("otherEvents").as_str(),
                &sheet_text(&event["at"]),
                &text(&event["kind"]),
                &text(&event["uai"]),
            ]);
        }
        for (kind, created, expires) in &self.sessions {
            table.row([
                label("sessions").as_str(),
                &sheet(*created),
                kind.as_str(),
                &format!("expire / expires {}", sheet(*expires)),
            ]);
        }
        let retention = &json["retention"];
        for (item, key, unit) in [
            ("Traces de transmission / Release traces", "releaseTracesDays", "jours / days"),
            ("Autres traces / Other audit records", "otherAuditEventsDays", "jours / days"),
            (
                "Après départ de l'annuaire / After leaving the directory",
                "afterLeavingTheDirectoryDays",
                "jours / days",
            ),
            (
                "Historique des affectations / Assignment history",
                "assignmentHistorySchoolYears",
                "années scolaires / school years",
            ),
        ] {
            table.row([label("retention").as_str(), "", item, &format!("{} {unit}", retention[key])]);
        }
        table.finish()
    }
}

fn identity(person: &PersonRecord) -> Value {
    json!({
        "personId": person.gar_id,
        "directory": person.source,
        "secondaryId": person.secondary_id,
        "lastName": person.last_name,
        "birthName": person.birth_name,
        "firstName": person.first_name,
        "otherFirstNames": json_list(&person.other_first_names),
        "civility": person.civility,
        "birthDate": person.birth_date.map(|d| d.to_string()),
        "mails": json_list(&person.mails),
        "homeSchool": person.attachment_uai,
        "receivedAt": iso(person.created_at),
        "updatedAt": iso(person.updated_at),
        "removedFromDirectoryAt": person.removed_at.map(iso),
    })
}

fn subscription(sub: &SubscriptionRef) -> Value {
    json!({
        "idAbonnement": sub.external_id,
        "distributor": sub.distributor_id,
        "type": sub.assignment_type,
        "validFrom": iso(sub.valid_from),
        "validUntil": sub.valid_until.map(iso),
        "endSchoolYear": sub.end_school_year,
        "deletedAt": sub.deleted_at.map(iso),
    })
}

/// A JSON string as text ("" for null).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A JSON RFC 3339 timestamp as the CSV shows dates.
fn sheet_text(value: &Value) -> String {
    text(value).replace('T', " ").trim_end_matches('Z').to_owned()
}
