//! The console's templates (`templates/console/`) and the text they show: every value is turned
//! into French text here, so templates only lay it out.

use askama::Template;
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Europe::Paris;

use crate::assignments::overview::{Alert, AlertKind, PoolView, SubscriptionView};
use crate::assignments::{PoolPreview, Preview, pool_label};
use crate::domain::subscription::AssignmentType;
use crate::store::populations::Populations;

/// What every page shows around its content.
pub(crate) struct Layout {
    pub demo: bool,
    /// The manager's name, when logged in.
    pub user: Option<String>,
    /// (UAI, name) of the school the page is about.
    pub school: Option<(String, String)>,
    pub several_schools: bool,
    /// Which navigation entry is current.
    pub section: &'static str,
    pub csrf: String,
    /// A confirmation after a change.
    pub notice: Option<String>,
}

impl Layout {
    /// A page nobody is logged in on.
    pub fn anonymous(demo: bool) -> Self {
        Self { demo, user: None, school: None, several_schools: false, section: "", csrf: String::new(), notice: None }
    }
}

/// A date of a subscription's period, as the distributor gave it (French local time).
pub(crate) fn date(at: NaiveDateTime) -> String {
    at.format("%d/%m/%Y").to_string()
}

/// The day of an event recorded by Sesame (stored in UTC), in Paris time.
pub(crate) fn day(at: NaiveDateTime) -> String {
    Paris.from_utc_datetime(&at).format("%d/%m/%Y").to_string()
}

/// A moment in Paris time: stored times are UTC.
pub(crate) fn moment(at: NaiveDateTime) -> String {
    Paris.from_utc_datetime(&at).format("%d/%m/%Y à %H:%M").to_string()
}

#[derive(Template)]
#[template(path = "console/login.html")]
pub(crate) struct LoginPage {
    pub layout: Layout,
    /// (id, name) of the ENT projects whose identity provider is registered.
    pub ents: Vec<(String, String)>,
}

pub(crate) struct DemoManager {
    pub ent_id: String,
    pub gar_id: String,
    pub name: String,
    pub schools: String,
}

#[derive(Template)]
#[template(path = "console/demo_login.html")]
pub(crate) struct DemoLoginPage {
    pub layout: Layout,
    pub managers: Vec<DemoManager>,
}

#[derive(Template)]
#[template(path = "console/schools.html")]
pub(crate) struct SchoolsPage {
    pub layout: Layout,
    pub schools: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/error.html")]
pub(crate) struct ErrorPage {
    pub layout: Layout,
    pub title: String,
    pub message: String,
    pub back: String,
}

/// One counter, as the counters block shows it.
pub(crate) struct CounterRow {
    /// `pool-2-ELEVE`, `pool-3-GLOBAL`…: unique on a page, stable hooks for tests and assistive tools.
    pub id: String,
    pub label: String,
    /// The figure in large: seats free (INDIV), people with access (ETABL).
    pub figure: String,
    pub unit: &'static str,
    pub detail: String,
    /// CSS class: ok, warn or over.
    pub state: &'static str,
}

impl CounterRow {
    pub fn of(subscription: i64, pool: &PoolView) -> Self {
        let mut detail = format!(
            "{} utilisée(s) sur {}",
            pool.used,
            pool.total.map_or_else(|| "un nombre illimité".to_owned(), |t| t.to_string())
        );
        if pool.waiting > 0 {
            detail.push_str(&format!(" · {} en attente", pool.waiting));
        }
        Self {
            id: format!("pool-{subscription}-{}", pool.pool.code().replace(' ', "_")),
            label: capitalized(pool_label(pool.pool)),
            figure: pool.free.map_or_else(|| "∞".to_owned(), |f| f.to_string()),
            unit: "libre(s)",
            detail,
            state: if pool.over_allocated {
                "over"
            } else if pool.nearly_exhausted {
                "warn"
            } else {
                "ok"
            },
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

pub(crate) struct AlertRow {
    pub class: &'static str,
    pub message: String,
    pub link: String,
}

impl AlertRow {
    pub fn of(alert: &Alert, uai: &str) -> Self {
        let class = match alert.kind {
            AlertKind::OverAllocated | AlertKind::Deleted => "over",
            _ => "warn",
        };
        Self {
            class,
            message: alert.message.clone(),
            link: format!("/console/{uai}/resources/{}", alert.subscription_id),
        }
    }
}

pub(crate) struct ResourceRow {
    pub id: i64,
    pub label: String,
    pub link: String,
    pub kind: &'static str,
    pub validity: String,
    pub status: Option<String>,
    pub counters: Vec<CounterRow>,
}

/// "Individuelle" or "Établissement".
pub(crate) fn kind_label(view: &SubscriptionView) -> &'static str {
    match view.assignment_type {
        AssignmentType::Individual => "Licences individuelles",
        AssignmentType::Establishment => "Tout l'établissement",
    }
}

/// "du 01/09/2026 au 31/08/2027".
pub(crate) fn validity(view: &SubscriptionView) -> String {
    match view.ends_at {
        Some(end) => format!("du {} au {}", date(view.valid_from), date(end)),
        None => format!("à partir du {}", date(view.valid_from)),
    }
}

/// Deleted, ended or not yet started.
pub(crate) fn status(view: &SubscriptionView) -> Option<String> {
    if let Some(end) = view.grace_end {
        return Some(format!("Supprimé par le distributeur : accès maintenu jusqu'au {}", day(end)));
    }
    if !view.open {
        return Some("Terminé".into());
    }
    (!view.in_force).then(|| format!("Commence le {}", date(view.valid_from)))
}

/// The counters of a subscription; an ETABL one shows the people with access against its global count.
pub(crate) fn counters(view: &SubscriptionView) -> Vec<CounterRow> {
    match &view.school_wide {
        Some(wide) => vec![CounterRow {
            id: format!("pool-{}-GLOBAL", view.id),
            label: "Tout l'établissement".into(),
            figure: wide.eligible.to_string(),
            unit: "personne(s) y ont accès",
            detail: wide
                .global_total
                .map_or_else(|| "licence illimitée".to_owned(), |total| format!("pour {total} licence(s) prévue(s)")),
            state: if wide.exceeded { "warn" } else { "ok" },
        }],
        None => view.pools.iter().map(|pool| CounterRow::of(view.id, pool)).collect(),
    }
}

impl ResourceRow {
    pub fn of(view: &SubscriptionView, uai: &str) -> Self {
        Self {
            id: view.id,
            label: view.resource_label.clone(),
            link: format!("/console/{uai}/resources/{}", view.id),
            kind: kind_label(view),
            validity: validity(view),
            status: status(view),
            counters: counters(view),
        }
    }
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
pub(crate) struct DashboardPage {
    pub layout: Layout,
    pub alerts: Vec<AlertRow>,
    pub resources: Vec<ResourceRow>,
}

pub(crate) struct ResourceHeader {
    pub id: i64,
    pub label: String,
    pub external_id: String,
    pub kind: &'static str,
    pub validity: String,
    pub status: Option<String>,
    pub school_wide: bool,
    pub open: bool,
}

pub(crate) struct OptionRow {
    pub value: String,
    pub label: String,
}

pub(crate) struct OptionGroup {
    pub label: &'static str,
    pub options: Vec<OptionRow>,
}

/// The populations a target can be picked from, as select groups.
pub(crate) fn target_options(populations: &Populations) -> Vec<OptionGroup> {
    let group = |label, list: &[crate::store::populations::Population]| OptionGroup {
        label,
        options: list
            .iter()
            .map(|p| OptionRow {
                value: format!("{}:{}", p.target.kind(), p.target.reference()),
                label: format!("{} ({})", p.label, p.members),
            })
            .collect(),
    };
    vec![
        group("Classes", &populations.classes),
        group("Groupes", &populations.groups),
        group("Niveaux (élèves)", &populations.levels),
        group("Enseignants d'une matière", &populations.subjects),
        group("Profils", &populations.profiles),
    ]
}

pub(crate) struct AssignmentRow {
    pub id: i64,
    pub label: String,
    /// The target as the forms post it.
    pub value: String,
    pub seats: i64,
    pub waiting: i64,
    pub by: String,
    pub at: String,
}

pub(crate) struct SwitchRow {
    pub code: String,
    pub label: String,
    pub enabled: bool,
    pub people: i64,
}

pub(crate) struct PreviewBox {
    pub summary: String,
    pub fits: bool,
    pub lines: Vec<String>,
}

impl PreviewBox {
    pub fn of(preview: &Preview) -> Self {
        let mut lines: Vec<String> = preview
            .pools
            .iter()
            .filter(|p| p.needed > 0)
            .map(|PoolPreview { pool, needed, left_after, .. }| {
                let after = match left_after {
                    None => "sans limite".to_owned(),
                    Some(left) if *left >= 0 => format!("il en restera {left}"),
                    Some(left) => format!("il en manque {}", -left),
                };
                format!("{} : {needed} licence(s) à prendre, {after}", capitalized(pool_label(*pool)))
            })
            .collect();
        lines.push(format!(
            "{} personne(s) dans la population, dont {} concernée(s) par l'abonnement",
            preview.members, preview.eligible
        ));
        if preview.waiting > 0 {
            lines.push(format!("{} personne(s) en attente recevraient leur licence", preview.waiting));
        }
        if preview.already_assigned.is_some() {
            lines.push("Cette population a déjà cette ressource.".into());
        }
        Self { summary: capitalized(&preview.summary_fr()), fits: preview.fits, lines }
    }
}

#[derive(Template)]
#[template(path = "console/resource.html")]
pub(crate) struct ResourcePage {
    pub layout: Layout,
    pub uai: String,
    /// This page's path, where forms come back to.
    pub here: String,
    pub back: String,
    pub header: ResourceHeader,
    pub alerts: Vec<AlertRow>,
    pub counters: Vec<CounterRow>,
    pub assignments: Vec<AssignmentRow>,
    pub waiting: Vec<String>,
    pub options: Vec<OptionGroup>,
    /// (code, label, checked) of every class, for "several classes".
    pub classes: Vec<(String, String, bool)>,
    pub selected: String,
    pub person: String,
    pub preview: Option<PreviewBox>,
    pub switches: Vec<SwitchRow>,
    pub eligible_line: String,
}

pub(crate) struct PopulationLink {
    pub link: String,
    pub label: String,
    pub members: i64,
}

pub(crate) struct PopulationSection {
    pub title: &'static str,
    pub rows: Vec<PopulationLink>,
}

#[derive(Template)]
#[template(path = "console/populations.html")]
pub(crate) struct PopulationsPage {
    pub layout: Layout,
    pub sections: Vec<PopulationSection>,
}

pub(crate) struct PopulationRow {
    pub id: i64,
    pub label: String,
    pub holders: i64,
    pub eligible: i64,
    pub waiting: i64,
    pub free: String,
    pub assigned: bool,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "console/population.html")]
pub(crate) struct PopulationPage {
    pub layout: Layout,
    pub uai: String,
    pub here: String,
    pub label: String,
    pub members: usize,
    pub cible: String,
    pub rows: Vec<PopulationRow>,
}

pub(crate) struct PersonRow {
    pub link: String,
    pub name: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "console/people.html")]
pub(crate) struct PeoplePage {
    pub layout: Layout,
    pub uai: String,
    pub q: String,
    pub searched: bool,
    pub results: Vec<PersonRow>,
}

#[derive(Template)]
#[template(path = "console/person.html")]
pub(crate) struct PersonPage {
    pub layout: Layout,
    pub uai: String,
    pub here: String,
    pub name: String,
    pub gar_id: String,
    pub details: String,
    /// (resource, how it is granted).
    pub resources: Vec<(String, String)>,
    pub waiting: Vec<String>,
    /// (subscription id, resource) that can still be assigned to the person.
    pub assignable: Vec<(i64, String)>,
}

pub(crate) struct HistoryRow {
    pub id: i64,
    pub at: String,
    pub by: String,
    pub resource: String,
    pub description: String,
    pub undone: Option<String>,
    pub undoable: bool,
}

#[derive(Template)]
#[template(path = "console/history.html")]
pub(crate) struct HistoryPage {
    pub layout: Layout,
    pub uai: String,
    pub rows: Vec<HistoryRow>,
    pub older: Option<String>,
}
