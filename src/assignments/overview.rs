//! What the console shows: each subscription's counters and alerts, one resource in detail, one
//! person's licences, one population's resources. Read-only; the JSON API and the pages both use it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

use super::error::{LedgerError, pool_label, public_label};
use super::facts::{school_ent, subscription};
use crate::config::Config;
use crate::domain::assignment::AssignmentTarget;
use crate::domain::entitlement::{Clock, Grant, Resolution};
use crate::domain::ledger::{PoolCount, seat_public};
use crate::domain::licence::PoolPublic;
use crate::domain::subscription::AssignmentType;
use crate::domain::{Public, Uai};
use crate::store::assignments::{self as ledger, ACTIVE, RELEASED, SubscriptionFacts};
use crate::store::populations::{self, PersonSummary, Populations};
use crate::store::schema::{assignment_seats, persons};
use crate::store::{AnyConnection, StoreError, entitlements, managers};

/// The thresholds alerts use, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub clock: Clock,
    pub nearly_exhausted_percent: u8,
    pub expiry_warning: TimeDelta,
}

impl Settings {
    pub fn new(config: &Config, now: NaiveDateTime) -> Self {
        Self {
            clock: Clock::new(now, config.licences.deletion_grace_days),
            nearly_exhausted_percent: config.console.nearly_exhausted_percent,
            expiry_warning: TimeDelta::days(i64::from(config.console.expiry_warning_days)),
        }
    }
}

/// One counter of a school, as shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolView {
    pub pool: PoolPublic,
    /// None = ILLIMITE.
    pub total: Option<i64>,
    pub used: i64,
    pub free: Option<i64>,
    pub waiting: i64,
    pub over_allocated: bool,
    pub nearly_exhausted: bool,
}

impl PoolView {
    pub fn label(&self) -> &'static str {
        pool_label(self.pool)
    }
}

/// One public of an ETABL subscription in a school.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicSwitch {
    pub public: Public,
    pub enabled: bool,
    /// People of the school in that public.
    pub people: i64,
}

impl PublicSwitch {
    pub fn label(&self) -> &'static str {
        public_label(self.public)
    }
}

/// An ETABL subscription in a school: which publics receive it, and the global count against the
/// people they hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchoolWideView {
    /// nbLicenceGlobale; None = ILLIMITE.
    pub global_total: Option<i64>,
    /// People of the enabled publics (each counted once).
    pub eligible: i64,
    /// More eligible people than the global count: a warning, nobody loses access.
    pub exceeded: bool,
    pub publics: Vec<PublicSwitch>,
}

/// What a dashboard alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlertKind {
    OverAllocated,
    Deleted,
    ExpiringSoon,
    NearlyExhausted,
    Waiting,
    NotAssigned,
    SchoolWideExceeded,
}

/// A dashboard alert, in French.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub kind: AlertKind,
    pub subscription_id: i64,
    pub message: String,
}

/// A subscription of a school, with its counters and alerts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: i64,
    /// idAbonnement.
    pub external_id: String,
    pub distributor_id: String,
    pub resource_id: String,
    pub resource_label: String,
    pub assignment_type: AssignmentType,
    pub valid_from: NaiveDateTime,
    pub ends_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    /// For a deleted subscription: until when it keeps granting what it gave.
    pub grace_end: Option<NaiveDateTime>,
    pub in_force: bool,
    /// Takes new assignments.
    pub open: bool,
    /// INDIV counters (empty for ETABL).
    pub pools: Vec<PoolView>,
    pub seats: i64,
    pub waiting: i64,
    pub live_assignments: usize,
    pub school_wide: Option<SchoolWideView>,
    pub alerts: Vec<Alert>,
}

impl SubscriptionView {
    pub fn is_school_wide(&self) -> bool {
        self.assignment_type == AssignmentType::Establishment
    }
}

/// A school's dashboard: every subscription and every alert, worst first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub subscriptions: Vec<SubscriptionView>,
    pub alerts: Vec<Alert>,
}

/// The dashboard of school `uai`.
pub fn dashboard(conn: &mut AnyConnection, uai: &Uai, settings: &Settings) -> Result<Dashboard, StoreError> {
    let facts = ledger::subscriptions_of_school(conn, uai)?;
    let seats = seat_counts(conn, uai, &facts)?;
    let live = ledger::live_assignments_of_school(conn, uai)?;
    let mut assignments: HashMap<i64, usize> = HashMap::new();
    for assignment in &live {
        *assignments.entry(assignment.subscription_id).or_default() += 1;
    }
    let people = populations::people_by_public(conn, uai)?;
    let mut subscriptions = Vec::with_capacity(facts.len());
    for sub in &facts {
        let opted_out = if sub.assignment_type == AssignmentType::Establishment {
            ledger::opted_out_publics(conn, sub.id, uai)?
        } else {
            Vec::new()
        };
        let counts = SeatCounts {
            by_pool: seats.get(&sub.id).cloned().unwrap_or_default(),
            live_assignments: assignments.get(&sub.id).copied().unwrap_or(0),
        };
        subscriptions.push(view(sub, &counts, &people, &opted_out, settings));
    }
    let mut alerts: Vec<Alert> = subscriptions.iter().flat_map(|s| s.alerts.iter().cloned()).collect();
    alerts.sort_by_key(|alert| alert.kind);
    Ok(Dashboard { subscriptions, alerts })
}

/// Seats of one subscription, for the view.
#[derive(Clone, Debug, Default)]
struct SeatCounts {
    by_pool: PoolSeats,
    live_assignments: usize,
}

/// Pool → (ACTIVE, WAITING) seats.
type PoolSeats = BTreeMap<PoolPublic, (i64, i64)>;

/// Subscription → its seats by pool, in a school.
fn seat_counts(
    conn: &mut AnyConnection,
    uai: &Uai,
    facts: &[SubscriptionFacts],
) -> Result<HashMap<i64, PoolSeats>, StoreError> {
    let rows: Vec<(i64, String, String)> = assignment_seats::table
        .filter(assignment_seats::uai.eq(uai.as_str()))
        .filter(assignment_seats::status.ne(RELEASED))
        .select((assignment_seats::subscription_id, assignment_seats::public, assignment_seats::status))
        .load(conn)?;
    let pools: HashMap<i64, Vec<PoolPublic>> = facts.iter().map(|sub| (sub.id, sub.pool_publics())).collect();
    let mut counts: HashMap<i64, PoolSeats> = HashMap::new();
    for (subscription_id, public, status) in rows {
        let Ok(public) = Public::parse(&public) else { continue };
        let pool = crate::domain::ledger::pool_of(public, pools.get(&subscription_id).map_or(&[][..], Vec::as_slice));
        let entry = counts.entry(subscription_id).or_default().entry(pool).or_default();
        if status == ACTIVE {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    Ok(counts)
}

fn view(
    sub: &SubscriptionFacts,
    seats: &SeatCounts,
    people: &BTreeMap<Public, HashSet<i64>>,
    opted_out: &[Public],
    settings: &Settings,
) -> SubscriptionView {
    let now = settings.clock.now;
    let term = sub.term;
    let school_wide = sub.assignment_type == AssignmentType::Establishment;
    let pools: Vec<PoolView> = if school_wide {
        Vec::new()
    } else {
        sub.pools
            .iter()
            .map(|(pool, count @ PoolCount { total, used })| PoolView {
                pool: *pool,
                total: *total,
                used: *used,
                free: count.free(),
                waiting: seats.by_pool.get(pool).map_or(0, |(_, waiting)| *waiting),
                over_allocated: count.is_over_allocated(),
                nearly_exhausted: count.is_nearly_exhausted(settings.nearly_exhausted_percent),
            })
            .collect()
    };
    let school_wide = school_wide.then(|| {
        let publics: Vec<PublicSwitch> = sub
            .publics
            .iter()
            .map(|public| PublicSwitch {
                public: *public,
                enabled: !opted_out.contains(public),
                people: people.get(public).map_or(0, |set| set.len() as i64),
            })
            .collect();
        let eligible: HashSet<i64> = publics
            .iter()
            .filter(|switch| switch.enabled)
            .flat_map(|switch| people.get(&switch.public).into_iter().flatten().copied())
            .collect();
        let global_total = sub.pool(PoolPublic::Global).and_then(|count| count.total);
        let eligible = eligible.len() as i64;
        SchoolWideView { global_total, eligible, exceeded: global_total.is_some_and(|t| eligible > t), publics }
    });
    let mut view = SubscriptionView {
        id: sub.id,
        external_id: sub.external_id.clone(),
        distributor_id: sub.distributor_id.clone(),
        resource_id: sub.resource_id.clone(),
        resource_label: sub.resource_label.clone(),
        assignment_type: sub.assignment_type,
        valid_from: term.valid_from,
        ends_at: term.ends_at,
        deleted_at: term.deleted_at,
        grace_end: term.grace_end(&settings.clock),
        in_force: term.in_force(now),
        open: term.takes_new_seats(now),
        seats: seats.by_pool.values().map(|(active, _)| active).sum(),
        waiting: seats.by_pool.values().map(|(_, waiting)| waiting).sum(),
        pools,
        live_assignments: seats.live_assignments,
        school_wide,
        alerts: Vec::new(),
    };
    view.alerts = alerts(&view, settings);
    view
}

/// The alerts one subscription raises.
fn alerts(view: &SubscriptionView, settings: &Settings) -> Vec<Alert> {
    let now = settings.clock.now;
    let mut alerts = Vec::new();
    let mut alert = |kind, message: String| alerts.push(Alert { kind, subscription_id: view.id, message });
    let name = &view.resource_label;
    let date = |at: NaiveDateTime| at.format("%d/%m/%Y").to_string();
    if let Some(grace_end) = view.grace_end {
        if now <= grace_end {
            alert(
                AlertKind::Deleted,
                format!(
                    "{name} : abonnement supprimé par le distributeur, accès maintenu jusqu'au {}",
                    date(grace_end)
                ),
            );
        }
        return alerts;
    }
    if let Some(end) = view.ends_at.filter(|end| now <= *end && *end - now <= settings.expiry_warning) {
        alert(AlertKind::ExpiringSoon, format!("{name} : l'abonnement se termine le {}", date(end)));
    }
    for pool in &view.pools {
        let label = pool.label();
        if pool.over_allocated {
            alert(
                AlertKind::OverAllocated,
                format!(
                    "{name} : {} licences utilisées pour {} ({label}) — retirez-en {} pour revenir dans le décompte",
                    pool.used,
                    pool.total.unwrap_or_default(),
                    pool.used - pool.total.unwrap_or_default()
                ),
            );
        } else if pool.nearly_exhausted {
            alert(
                AlertKind::NearlyExhausted,
                format!(
                    "{name} : plus que {} licence(s) sur {} ({label})",
                    pool.free.unwrap_or(0),
                    pool.total.unwrap_or(0)
                ),
            );
        }
        if pool.waiting > 0 {
            alert(
                AlertKind::Waiting,
                format!("{name} : {} personne(s) en attente d'une licence ({label})", pool.waiting),
            );
        }
    }
    if view.assignment_type == AssignmentType::Individual && view.open && view.live_assignments == 0 && view.seats == 0
    {
        alert(AlertKind::NotAssigned, format!("{name} : nouvelle ressource, pas encore affectée"));
    }
    if let Some(wide) = view.school_wide.as_ref().filter(|wide| wide.exceeded) {
        alert(
            AlertKind::SchoolWideExceeded,
            format!(
                "{name} : {} personnes y ont accès pour {} licences prévues",
                wide.eligible,
                wide.global_total.unwrap_or_default()
            ),
        );
    }
    alerts
}

/// A live assignment, as a resource's page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentView {
    pub id: i64,
    pub target: AssignmentTarget,
    /// "Classe 6A", "Dupont Léa"…
    pub label: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// Seats held through it.
    pub seats: i64,
    pub waiting: i64,
}

/// Someone on a subscription's waiting list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitingPerson {
    pub gar_id: String,
    pub name: String,
    pub public: Public,
}

/// One resource of a school in detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDetail {
    pub subscription: SubscriptionView,
    pub assignments: Vec<AssignmentView>,
    /// First come, first served.
    pub waiting: Vec<WaitingPerson>,
}

/// Subscription `subscription_id` of school `uai` in detail.
pub fn subscription_detail(
    conn: &mut AnyConnection,
    uai: &Uai,
    subscription_id: i64,
    settings: &Settings,
) -> Result<SubscriptionDetail, LedgerError> {
    let sub = subscription(conn, subscription_id, uai)?;
    let held = ledger::held_seats(conn, sub.id, uai)?;
    let live = ledger::live_assignments(conn, sub.id, uai)?;
    let pools = sub.pool_publics();
    let mut counts = SeatCounts { live_assignments: live.len(), ..SeatCounts::default() };
    let mut per_assignment: HashMap<i64, (i64, i64)> = HashMap::new();
    for seat in &held {
        let pool = crate::domain::ledger::pool_of(seat.public, &pools);
        let (pool_entry, assignment_entry) =
            (counts.by_pool.entry(pool).or_default(), per_assignment.entry(seat.assignment_id).or_default());
        if seat.active {
            pool_entry.0 += 1;
            assignment_entry.0 += 1;
        } else {
            pool_entry.1 += 1;
            assignment_entry.1 += 1;
        }
    }
    let people = populations::people_by_public(conn, uai)?;
    let opted_out = ledger::opted_out_publics(conn, sub.id, uai)?;
    let view = view(&sub, &counts, &people, &opted_out, settings);

    let ent_id = school_ent(conn, uai)?;
    let labels = populations::of_school(conn, uai)?;
    let ids: Vec<&str> = live
        .iter()
        .filter_map(|a| match &a.target {
            AssignmentTarget::Person(gar_id) => Some(gar_id.as_str()),
            _ => None,
        })
        .chain(held.iter().filter(|s| !s.active).map(|s| s.gar_id.as_str()))
        .collect();
    let names = populations::names(conn, &ent_id, &ids)?;
    let creators: Vec<&str> = live.iter().map(|a| a.created_by.as_str()).collect();
    let manager_names = managers::names(conn, &ent_id, &creators)?;
    let assignments = live
        .iter()
        .map(|a| {
            let (seats, waiting) = per_assignment.get(&a.id).copied().unwrap_or_default();
            AssignmentView {
                id: a.id,
                target: a.target.clone(),
                label: target_label(&a.target, &labels, &names),
                created_by: manager_names.get(&a.created_by).cloned().unwrap_or_else(|| a.created_by.clone()),
                created_at: a.created_at,
                seats,
                waiting,
            }
        })
        .collect();
    let waiting = held
        .iter()
        .filter(|seat| !seat.active)
        .map(|seat| WaitingPerson {
            gar_id: seat.gar_id.clone(),
            name: names.get(&seat.gar_id).cloned().unwrap_or_else(|| seat.gar_id.clone()),
            public: seat.public,
        })
        .collect();
    Ok(SubscriptionDetail { subscription: view, assignments, waiting })
}

/// How the console names a target.
pub fn target_label(target: &AssignmentTarget, labels: &Populations, names: &HashMap<String, String>) -> String {
    let known = labels.label(target);
    match target {
        AssignmentTarget::Person(gar_id) => names.get(gar_id).cloned().unwrap_or_else(|| gar_id.clone()),
        AssignmentTarget::Division(code) => format!("Classe {code}"),
        AssignmentTarget::Group(code) => format!("Groupe {}", known.unwrap_or(code)),
        AssignmentTarget::Divisions(codes) => format!("Classes {}", codes.join(", ")),
        AssignmentTarget::Mef(code) => format!("Niveau {}", known.unwrap_or(code)),
        AssignmentTarget::SubjectTeachers(code) => format!("Enseignants de {}", known.unwrap_or(code)),
        AssignmentTarget::Profile(profile) => populations::profile_label(*profile).to_owned(),
    }
}

/// A resource a person may open, or waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonResource {
    pub resource_id: String,
    pub resource_label: String,
    pub grants: Vec<Grant>,
}

/// One person's licences in a school.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonView {
    pub gar_id: String,
    pub name: String,
    pub profiles: Vec<crate::domain::Profile>,
    pub classes: Vec<String>,
    /// What they may open now (entitlement resolution).
    pub resources: Vec<PersonResource>,
    /// Subscriptions they wait a seat of: (id, resource label).
    pub waiting: Vec<(i64, String)>,
}

/// Person `gar_id` of school `uai`; `None` when the school has no such person.
pub fn person_view(
    conn: &mut AnyConnection,
    uai: &Uai,
    gar_id: &str,
    settings: &Settings,
) -> Result<Option<PersonView>, StoreError> {
    let Some(PersonSummary { person_id, gar_id, first_name, last_name, profiles, classes, .. }) =
        populations::find_person(conn, uai, gar_id)?
    else {
        return Ok(None);
    };
    let ent_id = school_ent(conn, uai)?;
    let labels: HashMap<i64, String> =
        ledger::subscriptions_of_school(conn, uai)?.into_iter().map(|s| (s.id, s.resource_label)).collect();
    let resources = match entitlements::resolve(conn, &ent_id, &gar_id, uai, settings.clock)? {
        Resolution::Granted(found) => found
            .resources
            .into_iter()
            .map(|r| PersonResource {
                resource_label: r
                    .grants
                    .first()
                    .and_then(|g| labels.get(&g.subscription_id))
                    .cloned()
                    .unwrap_or_else(|| r.resource_id.clone()),
                resource_id: r.resource_id,
                grants: r.grants,
            })
            .collect(),
        _ => Vec::new(),
    };
    let waiting: Vec<i64> = assignment_seats::table
        .filter(assignment_seats::person_id.eq(person_id))
        .filter(assignment_seats::uai.eq(uai.as_str()))
        .filter(assignment_seats::status.eq(ledger::WAITING))
        .select(assignment_seats::subscription_id)
        .load(conn)?;
    let waiting = waiting.into_iter().map(|id| (id, labels.get(&id).cloned().unwrap_or_default())).collect();
    Ok(Some(PersonView { gar_id, name: format!("{first_name} {last_name}"), profiles, classes, resources, waiting }))
}

/// An INDIV subscription as seen from one population.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopulationResource {
    pub subscription: SubscriptionView,
    /// The live assignment of exactly this population, if any.
    pub assignment: Option<i64>,
    /// Members licensed by the subscription's publics.
    pub eligible: i64,
    /// Members holding a seat (through any assignment).
    pub holders: i64,
    pub waiting: i64,
}

/// One population of a school and the resources it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopulationView {
    pub target: AssignmentTarget,
    pub label: String,
    pub members: usize,
    pub resources: Vec<PopulationResource>,
}

/// Population `target` of school `uai`; `None` when it names nobody there.
pub fn population_view(
    conn: &mut AnyConnection,
    uai: &Uai,
    target: &AssignmentTarget,
    settings: &Settings,
) -> Result<Option<PopulationView>, StoreError> {
    let Some(members) = ledger::members(conn, uai, target)? else { return Ok(None) };
    let ids: Vec<i64> = members.iter().map(|m| m.person_id).collect();
    let rows: Vec<(i64, String)> = ids
        .chunks(10_000)
        .map(|chunk| {
            assignment_seats::table
                .inner_join(persons::table)
                .filter(assignment_seats::uai.eq(uai.as_str()))
                .filter(assignment_seats::status.ne(RELEASED))
                .filter(assignment_seats::person_id.eq_any(chunk))
                .select((assignment_seats::subscription_id, assignment_seats::status))
                .load::<(i64, String)>(conn)
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let mut holders: HashMap<i64, (i64, i64)> = HashMap::new();
    for (subscription_id, status) in rows {
        let entry = holders.entry(subscription_id).or_default();
        if status == ACTIVE {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    let dashboard = dashboard(conn, uai, settings)?;
    let live = ledger::live_assignments_of_school(conn, uai)?;
    let facts: HashMap<i64, SubscriptionFacts> =
        ledger::subscriptions_of_school(conn, uai)?.into_iter().map(|s| (s.id, s)).collect();
    let resources = dashboard
        .subscriptions
        .into_iter()
        .filter(|s| s.assignment_type == AssignmentType::Individual)
        .map(|subscription| {
            let licensed = facts.get(&subscription.id).map(SubscriptionFacts::licensed_publics).unwrap_or_default();
            let eligible = members.iter().filter(|m| seat_public(&m.profiles, &licensed).is_some()).count() as i64;
            let (holders, waiting) = holders.get(&subscription.id).copied().unwrap_or_default();
            let assignment =
                live.iter().find(|a| a.subscription_id == subscription.id && &a.target == target).map(|a| a.id);
            PopulationResource { subscription, assignment, eligible, holders, waiting }
        })
        .collect();
    let labels = populations::of_school(conn, uai)?;
    let ent_id = school_ent(conn, uai)?;
    let gar_ids: Vec<&str> = members.iter().map(|m| m.gar_id.as_str()).collect();
    let names = populations::names(conn, &ent_id, &gar_ids)?;
    Ok(Some(PopulationView {
        target: target.clone(),
        label: target_label(target, &labels, &names),
        members: members.len(),
        resources,
    }))
}
