//! The console's pages that show things: dashboard, a resource (with its preview), populations,
//! people, history.

use actix_web::{HttpRequest, web};

use super::forms::{FormData, notice, target_of, target_value};
use super::views::{
    AlertRow, AssignmentRow, DashboardPage, HistoryPage, HistoryRow, PeoplePage, PersonPage, PersonRow, PopulationLink,
    PopulationPage, PopulationRow, PopulationSection, PopulationsPage, PreviewBox, ResourceHeader, ResourcePage,
    ResourceRow, SwitchRow, counters, kind_label, moment, status, target_options, validity,
};
use super::{Ctx, PageResult, html};
use crate::assignments::web::{run, settings};
use crate::assignments::{self, Author, LedgerError, overview};
use crate::domain::entitlement::How;
use crate::domain::subscription::AssignmentType;
use crate::http::AppState;
use crate::http::session::{ConsoleManager, SessionError};
use crate::store::populations::{self, Population};

type Session = Result<ConsoleManager, SessionError>;

/// A value as it goes in a URL.
fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn query(req: &HttpRequest) -> FormData {
    FormData::parse(req.query_string().as_bytes())
}

/// `GET /console/{uai}`: alerts, then every resource with its counters.
pub(super) async fn dashboard(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    req: HttpRequest,
) -> PageResult {
    let ctx = Ctx::new(state, session, &path)?;
    let (uai, settings) = (ctx.uai.clone(), settings(&ctx.state));
    let dashboard = run(&ctx.state, move |conn, _| Ok(overview::dashboard(conn, &uai, &settings)?))
        .await
        .map_err(|e| ctx.fail(e, "/console"))?;
    let school = ctx.uai.as_str();
    let mut layout = ctx.layout("dashboard");
    layout.notice = notice(&query(&req));
    html(&DashboardPage {
        layout,
        alerts: dashboard.alerts.iter().map(|a| AlertRow::of(a, school)).collect(),
        resources: dashboard.subscriptions.iter().map(|s| ResourceRow::of(s, school)).collect(),
    })
}

/// `GET /console/{uai}/resources/{id}`: entry by resource. With `apercu=1` and a target, shows
/// what assigning it would do.
pub(super) async fn resource(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, i64)>,
    req: HttpRequest,
) -> PageResult {
    let (uai, id) = path.into_inner();
    let ctx = Ctx::new(state, session, &uai)?;
    let query = query(&req);
    let wanted = query.get("apercu").is_some().then(|| target_of(&query, "cible"));
    let (uai, settings, m) = (ctx.uai.clone(), settings(&ctx.state), ctx.manager.manager.clone());
    let preview_target = wanted.clone().and_then(Result::ok);
    let (detail, labels, preview) = run(&ctx.state, move |conn, pseudonyms| {
        let detail = overview::subscription_detail(conn, &uai, id, &settings)?;
        let labels = populations::of_school(conn, &uai)?;
        let preview = match preview_target {
            Some(target) => {
                let author = Author::manager(&m.ent_id, &m.gar_id, pseudonyms);
                Some(assignments::preview(conn, &author, &uai, id, target))
            }
            None => None,
        };
        Ok((detail, labels, preview))
    })
    .await
    .map_err(|e| ctx.fail(e, &format!("/console/{}", ctx.uai)))?;
    let preview = match (wanted, preview) {
        (Some(Err(message)), _) => Some(PreviewBox { summary: message, fits: false, lines: Vec::new() }),
        (_, Some(Err(LedgerError::Store(e)))) => return Err(ctx.fail(LedgerError::Store(e), "/console")),
        (_, Some(Err(refused))) => Some(PreviewBox { summary: refused.message_fr(), fits: false, lines: Vec::new() }),
        (_, Some(Ok(preview))) => Some(PreviewBox::of(&preview)),
        _ => None,
    };
    let view = &detail.subscription;
    let school = ctx.uai.to_string();
    let checked = query.all("classes");
    let mut layout = ctx.layout("dashboard");
    layout.notice = notice(&query);
    let eligible_line = view.school_wide.as_ref().map_or_else(String::new, |wide| match wide.global_total {
        Some(total) if wide.exceeded => {
            format!(
                "{} personnes y ont accès pour {total} licences prévues : signalez-le au distributeur.",
                wide.eligible
            )
        }
        Some(total) => format!("{} personnes y ont accès pour {total} licences prévues.", wide.eligible),
        None => format!("{} personnes y ont accès (licence illimitée).", wide.eligible),
    });
    html(&ResourcePage {
        here: format!("/console/{school}/resources/{id}"),
        back: format!("/console/{school}"),
        header: ResourceHeader {
            id: view.id,
            label: view.resource_label.clone(),
            external_id: view.external_id.clone(),
            kind: kind_label(view),
            validity: validity(view),
            status: status(view),
            school_wide: view.assignment_type == AssignmentType::Establishment,
            open: view.open,
        },
        alerts: view
            .alerts
            .iter()
            .filter(|a| a.kind != overview::AlertKind::Deleted)
            .map(|a| AlertRow::of(a, &school))
            .collect(),
        counters: counters(view),
        assignments: detail
            .assignments
            .iter()
            .map(|a| AssignmentRow {
                id: a.id,
                label: a.label.clone(),
                value: target_value(&a.target),
                seats: a.seats,
                waiting: a.waiting,
                by: a.created_by.clone(),
                at: moment(a.created_at),
            })
            .collect(),
        waiting: detail.waiting.iter().map(|w| w.name.clone()).collect(),
        options: target_options(&labels),
        classes: labels
            .classes
            .iter()
            .map(|c| (c.target.reference(), c.label.clone(), checked.contains(&c.target.reference())))
            .collect(),
        selected: query.get("cible").unwrap_or_default().to_owned(),
        person: query.get("personne").unwrap_or_default().to_owned(),
        preview,
        switches: view
            .school_wide
            .iter()
            .flat_map(|wide| &wide.publics)
            .map(|s| SwitchRow {
                code: s.public.code().to_owned(),
                label: s.label().to_owned(),
                enabled: s.enabled,
                people: s.people,
            })
            .collect(),
        eligible_line,
        uai: school,
        layout,
    })
}

/// `GET /console/{uai}/populations`: entry by population.
pub(super) async fn populations(state: web::Data<AppState>, session: Session, path: web::Path<String>) -> PageResult {
    let ctx = Ctx::new(state, session, &path)?;
    let uai = ctx.uai.clone();
    let found = run(&ctx.state, move |conn, _| Ok(populations::of_school(conn, &uai)?))
        .await
        .map_err(|e| ctx.fail(e, "/console"))?;
    let school = ctx.uai.as_str();
    let rows = |list: &[Population]| {
        list.iter()
            .map(|p| PopulationLink {
                link: format!("/console/{school}/population?cible={}", encoded(&target_value(&p.target))),
                label: p.label.clone(),
                members: p.members,
            })
            .collect()
    };
    html(&PopulationsPage {
        layout: ctx.layout("populations"),
        sections: vec![
            PopulationSection { title: "Classes", rows: rows(&found.classes) },
            PopulationSection { title: "Groupes", rows: rows(&found.groups) },
            PopulationSection { title: "Niveaux (élèves)", rows: rows(&found.levels) },
            PopulationSection { title: "Enseignants par matière", rows: rows(&found.subjects) },
            PopulationSection { title: "Profils", rows: rows(&found.profiles) },
        ],
    })
}

/// `GET /console/{uai}/population?cible=KIND:REF`: what a population holds, with assign/withdraw.
pub(super) async fn population(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    req: HttpRequest,
) -> PageResult {
    let ctx = Ctx::new(state, session, &path)?;
    let query = query(&req);
    let target = target_of(&query, "cible").map_err(|message| ctx.not_found(&message))?;
    let (uai, settings, wanted) = (ctx.uai.clone(), settings(&ctx.state), target.clone());
    let found = run(&ctx.state, move |conn, _| Ok(overview::population_view(conn, &uai, &wanted, &settings)?))
        .await
        .map_err(|e| ctx.fail(e, "/console"))?;
    let view = found.ok_or_else(|| ctx.not_found("Cette population n'existe pas dans l'établissement."))?;
    let school = ctx.uai.to_string();
    let cible = target_value(&target);
    let mut layout = ctx.layout("populations");
    layout.notice = notice(&query);
    html(&PopulationPage {
        here: format!("/console/{school}/population?cible={}", encoded(&cible)),
        label: view.label,
        members: view.members,
        rows: view
            .resources
            .iter()
            .map(|r| PopulationRow {
                id: r.subscription.id,
                label: r.subscription.resource_label.clone(),
                holders: r.holders,
                eligible: r.eligible,
                waiting: r.waiting,
                free: counters(&r.subscription)
                    .iter()
                    .map(|c| format!("{} : {}", c.label, c.figure))
                    .collect::<Vec<_>>()
                    .join(" · "),
                assigned: r.assignment.is_some(),
                open: r.subscription.open,
            })
            .collect(),
        cible,
        uai: school,
        layout,
    })
}

/// `GET /console/{uai}/people?q=`: person search.
pub(super) async fn people(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    req: HttpRequest,
) -> PageResult {
    let ctx = Ctx::new(state, session, &path)?;
    let q = query(&req).get("q").unwrap_or_default().trim().to_owned();
    let (uai, text) = (ctx.uai.clone(), q.clone());
    let found = run(&ctx.state, move |conn, _| Ok(populations::search(conn, &uai, &text, 50)?))
        .await
        .map_err(|e| ctx.fail(e, "/console"))?;
    let school = ctx.uai.to_string();
    html(&PeoplePage {
        layout: ctx.layout("people"),
        searched: !q.is_empty(),
        results: found
            .iter()
            .map(|p| PersonRow {
                link: format!("/console/{school}/people/{}", encoded(&p.gar_id)),
                name: p.display_name(),
                details: describe(&p.profiles, &p.classes),
            })
            .collect(),
        uai: school,
        q,
    })
}

/// "Élève · 6A".
fn describe(profiles: &[crate::domain::Profile], classes: &[String]) -> String {
    use crate::domain::Profile;
    let mut parts: Vec<String> = profiles
        .iter()
        .map(|p| {
            match p {
                Profile::Pupil => "Élève",
                Profile::Teacher => "Enseignant",
                Profile::Librarian => "Professeur documentaliste",
                Profile::Management => "Direction",
                Profile::SchoolLife => "Vie scolaire",
                Profile::SchoolStaff => "Personnel administratif ou technique",
                Profile::LocalAuthority => "Collectivité",
            }
            .to_owned()
        })
        .collect();
    if !classes.is_empty() {
        parts.push(classes.join(", "));
    }
    parts.join(" · ")
}

/// `GET /console/{uai}/people/{gar_id}`: what one person may open, and what they wait for.
pub(super) async fn person(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> PageResult {
    let (uai, gar_id) = path.into_inner();
    let ctx = Ctx::new(state, session, &uai)?;
    let (uai, settings) = (ctx.uai.clone(), settings(&ctx.state));
    let (found, dashboard) = run(&ctx.state, move |conn, _| {
        Ok((overview::person_view(conn, &uai, &gar_id, &settings)?, overview::dashboard(conn, &uai, &settings)?))
    })
    .await
    .map_err(|e| ctx.fail(e, "/console"))?;
    let person = found.ok_or_else(|| ctx.not_found("Cette personne n'est pas dans l'établissement."))?;
    let school = ctx.uai.to_string();
    let held: Vec<i64> = person.resources.iter().flat_map(|r| r.grants.iter().map(|g| g.subscription_id)).collect();
    let mut layout = ctx.layout("people");
    layout.notice = notice(&query(&req));
    html(&PersonPage {
        here: format!("/console/{school}/people/{}", encoded(&person.gar_id)),
        details: describe(&person.profiles, &person.classes),
        resources: person
            .resources
            .iter()
            .map(|r| {
                let how = if r.grants.iter().any(|g| g.how == How::Seat) {
                    "licence individuelle"
                } else {
                    "accès de tout l'établissement"
                };
                (r.resource_label.clone(), how.to_owned())
            })
            .collect(),
        waiting: person.waiting.iter().map(|(_, label)| label.clone()).collect(),
        assignable: dashboard
            .subscriptions
            .iter()
            .filter(|s| s.assignment_type == AssignmentType::Individual && s.open && !held.contains(&s.id))
            .map(|s| (s.id, s.resource_label.clone()))
            .collect(),
        name: person.name,
        gar_id: person.gar_id,
        uai: school,
        layout,
    })
}

/// `GET /console/{uai}/history?avant=ID`: changes, newest first, with undo.
pub(super) async fn history(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    req: HttpRequest,
) -> PageResult {
    const PAGE: i64 = 50;
    let ctx = Ctx::new(state, session, &path)?;
    let query = query(&req);
    let before = query.get("avant").and_then(|id| id.parse().ok());
    let uai = ctx.uai.clone();
    let entries = run(&ctx.state, move |conn, _| Ok(assignments::history(conn, &uai, before, PAGE)?))
        .await
        .map_err(|e| ctx.fail(e, "/console"))?;
    let school = ctx.uai.to_string();
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|last| format!("/console/{school}/history?avant={}", last.id)))
        .flatten();
    let mut layout = ctx.layout("history");
    layout.notice = notice(&query);
    html(&HistoryPage {
        layout,
        rows: entries
            .into_iter()
            .map(|h| HistoryRow {
                id: h.id,
                at: moment(h.at),
                by: h.by,
                resource: h.resource_label,
                description: h.description,
                undone: h
                    .undone_at
                    .map(|at| format!("annulée le {} par {}", moment(at), h.undone_by.unwrap_or_default())),
                undoable: h.undoable,
            })
            .collect(),
        older,
        uai: school,
    })
}
