//! The console's form posts: assign, withdraw, transfer, switch ETABL publics, undo. Each checks
//! the CSRF token, runs the same capability function as the JSON API, and redirects back with a
//! confirmation, or answers with a page saying why nothing changed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Ctx, PageError, PageResult, error_page, redirect};
use crate::assignments::web::run;
use crate::assignments::{self, Author, LedgerError};
use crate::domain::assignment::AssignmentTarget;
use crate::domain::{Public, Uai};
use crate::http::AppState;
use crate::http::session::{ConsoleManager, SessionError};
use crate::store::AnyConnection;

/// A url-encoded form or query string, keeping repeated keys (`classes=6A&classes=6B`).
pub(super) struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(bytes: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
}

/// The target a form names: `cible` is `PERSON` (with `personne`), `DIVISIONS` (with each
/// checked `classes`), or `KIND:REF` as the population lists write it.
pub(super) fn target_of(form: &FormData, field: &str) -> Result<AssignmentTarget, String> {
    let cible = form.get(field).unwrap_or_default();
    let target = match cible {
        "PERSON" => AssignmentTarget::Person(form.get("personne").unwrap_or_default().to_owned()),
        "DIVISIONS" => AssignmentTarget::Divisions(form.all("classes")),
        _ => {
            let (kind, reference) = cible.split_once(':').ok_or("Choisissez une population.")?;
            AssignmentTarget::from_stored(kind, reference).map_err(|_| "Cette population n'existe pas.".to_owned())?
        }
    };
    target.normalized().map_err(|_| match cible {
        "PERSON" => "Indiquez l'identifiant de la personne (voir « Personnes »).".to_owned(),
        "DIVISIONS" => "Cochez au moins une classe.".to_owned(),
        _ => "Choisissez une population.".to_owned(),
    })
}

/// How a form names a target again (`KIND:REF`, or `PERSON` + `personne`).
pub(super) fn target_value(target: &AssignmentTarget) -> String {
    format!("{}:{}", target.kind(), target.reference())
}

/// A change posted from a page: the manager and school, the form (its CSRF token checked), and
/// the page to go back to.
struct Posted {
    ctx: Ctx,
    form: FormData,
    back: String,
}

impl Posted {
    fn new(state: web::Data<AppState>, session: Session, uai: &str, body: &[u8]) -> Result<Self, PageError> {
        let ctx = Ctx::new(state, session, uai)?;
        let form = FormData::parse(body);
        if !ctx.manager.csrf_matches(form.get("csrf").unwrap_or_default()) {
            return Err(error_page(
                ctx.layout(""),
                StatusCode::FORBIDDEN,
                "Formulaire expiré",
                "Ce formulaire a expiré ou ne vient pas de la console : rechargez la page et recommencez.",
                &format!("/console/{}", ctx.uai),
            ));
        }
        // Back to a page of this school only, never elsewhere.
        let home = format!("/console/{}", ctx.uai);
        let back = match form.get("back") {
            Some(back) if back.starts_with(&home) && !back.contains("//") && !back.contains('\\') => back.to_owned(),
            _ => home,
        };
        Ok(Self { ctx, form, back })
    }

    fn bad_form(&self, message: String) -> PageError {
        error_page(self.ctx.layout(""), StatusCode::UNPROCESSABLE_ENTITY, "Demande incomplète", &message, &self.back)
    }

    fn subscription(&self) -> Result<i64, PageError> {
        self.form
            .get("subscription")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| self.bad_form("Choisissez une ressource.".into()))
    }

    fn target(&self, field: &str) -> Result<AssignmentTarget, PageError> {
        target_of(&self.form, field).map_err(|message| self.bad_form(message))
    }

    /// Runs the change as the manager; a refusal becomes the page saying why.
    async fn run<T, F>(&self, change: F) -> Result<T, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &Author<'_>, &Uai) -> Result<T, LedgerError> + Send + 'static,
    {
        let (uai, m) = (self.ctx.uai.clone(), self.ctx.manager.manager.clone());
        run(&self.ctx.state, move |conn, pseudonyms| {
            change(conn, &Author::manager(&m.ent_id, &m.gar_id, pseudonyms), &uai)
        })
        .await
        .map_err(|e| self.ctx.fail(e, &self.back))
    }
}

/// `back` with `fait=<what>&n=<count>` for the confirmation, replacing an earlier one.
fn done(back: &str, what: &str, n: usize) -> HttpResponse {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let kept: Vec<&str> =
        query.split('&').filter(|p| !p.is_empty() && !p.starts_with("fait=") && !p.starts_with("n=")).collect();
    let mut location = format!("{path}?fait={what}&n={n}");
    for part in kept {
        location.push('&');
        location.push_str(part);
    }
    redirect(location)
}

/// The confirmation a redirect asks for.
pub(super) fn notice(query: &FormData) -> Option<String> {
    let n = query.get("n").unwrap_or("0");
    Some(match query.get("fait")? {
        "affecte" => format!("Ressource affectée : {n} licence(s) attribuée(s)."),
        "retire" => format!("Ressource retirée : {n} licence(s) libérée(s)."),
        "transfere" => format!("Transfert effectué : {n} licence(s) attribuée(s)."),
        "bascule" => "Accès modifié.".to_owned(),
        "annule" => "Opération annulée.".to_owned(),
        _ => return None,
    })
}

type Session = Result<ConsoleManager, SessionError>;

/// `POST /console/{uai}/assign`.
pub(super) async fn assign(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let posted = Posted::new(state, session, &path, &body)?;
    let (subscription, target) = (posted.subscription()?, posted.target("cible")?);
    let assigned =
        posted.run(move |conn, author, uai| assignments::assign(conn, author, uai, subscription, target)).await?;
    Ok(done(&posted.back, "affecte", assigned.changes.granted))
}

/// `POST /console/{uai}/withdraw`.
pub(super) async fn withdraw(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let posted = Posted::new(state, session, &path, &body)?;
    let (subscription, target) = (posted.subscription()?, posted.target("cible")?);
    let withdrawn =
        posted.run(move |conn, author, uai| assignments::withdraw(conn, author, uai, subscription, target)).await?;
    Ok(done(&posted.back, "retire", withdrawn.changes.released))
}

/// `POST /console/{uai}/transfer`: `depuis` → the target fields.
pub(super) async fn transfer(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let posted = Posted::new(state, session, &path, &body)?;
    let (subscription, from, to) = (posted.subscription()?, posted.target("depuis")?, posted.target("cible")?);
    let transferred =
        posted.run(move |conn, author, uai| assignments::transfer(conn, author, uai, subscription, from, to)).await?;
    Ok(done(&posted.back, "transfere", transferred.changes.granted))
}

/// `POST /console/{uai}/school-wide`: `public`, `enabled` = true or false.
pub(super) async fn school_wide(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<String>,
    body: web::Bytes,
) -> PageResult {
    let posted = Posted::new(state, session, &path, &body)?;
    let subscription = posted.subscription()?;
    let public = posted
        .form
        .get("public")
        .and_then(|code| Public::parse(code).ok())
        .ok_or_else(|| posted.bad_form("Choisissez un public.".into()))?;
    let enabled = posted.form.get("enabled") == Some("true");
    posted
        .run(move |conn, author, uai| assignments::set_school_wide(conn, author, uai, subscription, public, enabled))
        .await?;
    Ok(done(&posted.back, "bascule", 0))
}

/// `POST /console/{uai}/history/{id}/undo`.
pub(super) async fn undo(
    state: web::Data<AppState>,
    session: Session,
    path: web::Path<(String, i64)>,
    body: web::Bytes,
) -> PageResult {
    let (uai, id) = path.into_inner();
    let mut posted = Posted::new(state, session, &uai, &body)?;
    posted.back = format!("/console/{}/history", posted.ctx.uai);
    let undone = posted.run(move |conn, author, uai| assignments::undo(conn, author, uai, id)).await?;
    Ok(done(&posted.back, "annule", undone.changes.granted + undone.changes.released))
}
