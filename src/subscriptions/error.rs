//! Errors of the abonnement web service, rendered as its XML error body.
//!
//! ```xml
//! <erreur xmlns="http://www.atosworldline.com/wsabonnement/v1.0/">
//!     <code>400</code>
//!     <regle>RG5</regle>
//!     <champ>nbLicenceEleve</champ>
//!     <message xml:lang="fr">…</message>
//!     <message xml:lang="en">…</message>
//! </erreur>
//! ```
//!
//! `regle` is `RG1`…`RG13` for the GAR's rules, else one of the codes of [`WsError::rule`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::xml::{self, NS, XmlError};
use crate::domain::Uai;
use crate::domain::subscription::SubscriptionError;
use crate::http::caller::CallerError;
use crate::store::StoreError;

/// A failed call to the abonnement web service. Nothing is stored when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error(transparent)]
    Rule(#[from] SubscriptionError),
    #[error("<{name}> is not an element of <{parent}>")]
    UnknownElement { parent: &'static str, name: String },
    #[error("<{0}> may appear only once")]
    Repeated(String),
    #[error("<{0}> holds text only, not elements")]
    Nested(String),
    #[error("the URL names subscription `{path}` but the body's idAbonnement is `{body}`")]
    PathMismatch { path: String, body: String },
    #[error("idDistributeurCom `{0}` is not the distributor of the client certificate")]
    NotYours(String),
    #[error("school {0} is not known to Sesame")]
    UnknownSchool(Uai),
    #[error("subscription {0} already exists (existe deja): update it with POST")]
    Exists(String),
    #[error("subscription {0} does not exist")]
    NotFound(String),
    #[error("debutValidite cannot change: an update repeats the stored value")]
    StartChanged,
    #[error("{0} cannot change after creation: leave it out of an update")]
    SchoolsChanged(&'static str),
    #[error("{field} `{value}` is not accepted: expected {expected_en}")]
    Filter { field: String, value: String, expected_en: &'static str, expected_fr: &'static str },
    #[error("give exactly one of idAbonnement and codeProjetRessource")]
    CountsSelection,
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for WsError {
    fn from(e: diesel::result::Error) -> Self {
        WsError::Store(StoreError::Query(e))
    }
}

/// What the error body says.
struct Fault {
    rule: &'static str,
    field: String,
    fr: String,
    en: String,
}

impl WsError {
    /// The `<regle>` code: `RG1`…`RG13`, or `SCHEMA` (a field's shape), `XML` (the document),
    /// `UAI` (an unknown school), `DOUBLON` (409), `INCONNU` (404), `MODIFICATION` (what an update
    /// cannot change), `FILTRE` (a search or count request), `CERTIFICAT` (caller identity),
    /// `SERVICE` (Sesame's own failure).
    pub fn rule(&self) -> String {
        match self {
            Self::Rule(error) => error.rule().code(),
            _ => self.fault().rule.to_owned(),
        }
    }

    fn fault(&self) -> Fault {
        let fault = |rule, field: &str, fr: String| Fault { rule, field: field.to_owned(), fr, en: self.to_string() };
        match self {
            Self::Caller(CallerError::Store(_)) | Self::Store(_) => Fault {
                rule: "SERVICE",
                field: String::new(),
                fr: "le service est momentanément indisponible, réessayer plus tard".into(),
                en: "the service is temporarily unavailable, try again later".into(),
            },
            Self::Caller(error) => fault("CERTIFICAT", "", caller_french(error).into()),
            Self::Xml(error) => fault("XML", "", xml_french(error)),
            Self::Rule(error) => {
                Fault { rule: "", field: error.field().to_owned(), fr: error.french(), en: error.to_string() }
            }
            Self::UnknownElement { parent, name } => {
                fault("SCHEMA", name, format!("<{name}> n'est pas un élément de <{parent}>"))
            }
            Self::Repeated(name) => fault("SCHEMA", name, format!("<{name}> ne peut apparaître qu'une fois")),
            Self::Nested(name) => fault("SCHEMA", name, format!("<{name}> contient du texte, pas des éléments")),
            Self::PathMismatch { path, body } => fault(
                "SCHEMA",
                "idAbonnement",
                format!("l'URL désigne l'abonnement « {path} » mais idAbonnement vaut « {body} »"),
            ),
            Self::NotYours(id) => fault(
                "RG3",
                "idDistributeurCom",
                format!("idDistributeurCom « {id} » n'est pas le distributeur du certificat client"),
            ),
            Self::UnknownSchool(uai) => fault("UAI", "uaiEtab", format!("l'établissement {uai} est inconnu de Sesame")),
            Self::Exists(id) => {
                fault("DOUBLON", "idAbonnement", format!("l'abonnement {id} existe deja : le modifier avec POST"))
            }
            Self::NotFound(id) => fault("INCONNU", "idAbonnement", format!("l'abonnement {id} n'existe pas")),
            Self::StartChanged => fault(
                "MODIFICATION",
                "debutValidite",
                "debutValidite ne peut pas changer : une modification reprend la valeur enregistrée".into(),
            ),
            Self::SchoolsChanged(field) => fault(
                "MODIFICATION",
                field,
                format!("{field} ne peut pas changer après la création : l'omettre dans une modification"),
            ),
            Self::Filter { field, value, expected_fr, .. } => {
                fault("FILTRE", field, format!("{field} « {value} » n'est pas accepté (attendu : {expected_fr})"))
            }
            Self::CountsSelection => fault(
                "FILTRE",
                "idAbonnement",
                "donner exactement un des paramètres idAbonnement et codeProjetRessource".into(),
            ),
        }
    }
}

fn caller_french(error: &CallerError) -> &'static str {
    match error {
        CallerError::NoCertificate => "un certificat client est requis",
        CallerError::Unregistered => "ce certificat client n'est pas enregistré auprès de Sesame",
        CallerError::WrongKind(_) => "ce certificat client n'est pas celui d'un distributeur",
        CallerError::Store(_) => "le service est momentanément indisponible",
    }
}

fn xml_french(error: &XmlError) -> String {
    match error {
        XmlError::Empty => "le corps de la requête est vide".into(),
        XmlError::TooLarge => format!("le corps de la requête dépasse {} octets", xml::MAX_BODY),
        XmlError::Read(_) => "le corps de la requête n'a pas pu être lu".into(),
        XmlError::NotUtf8 => "le corps de la requête n'est pas du texte UTF-8".into(),
        XmlError::Malformed(reason) => format!("le corps n'est pas du XML bien formé : {reason}"),
        XmlError::Doctype => "un DOCTYPE n'est pas accepté (ni DTD ni entité)".into(),
        XmlError::Namespace(name) => format!("l'élément <{name}> n'est pas dans l'espace de noms {NS}"),
        XmlError::Root { found, expected } => {
            format!("l'élément racine est <{found}>, <{expected}> est attendu")
        }
        XmlError::Mixed(name) => format!("l'élément <{name}> mélange texte et éléments"),
        XmlError::TooDeep(name) => format!("l'élément <{name}> est trop profondément imbriqué"),
    }
}

impl ResponseError for WsError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Caller(error) => error.status_code(),
            Self::Xml(XmlError::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Exists(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Store(StoreError::Query(_) | StoreError::Migration(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            // The cause goes to the log once, never to the client.
            tracing::error!(error = %self, "abonnement web service failed");
        }
        let fault = self.fault();
        let mut writer = xml::writer();
        writer
            .create_element("erreur")
            .with_attribute(("xmlns", NS))
            .write_inner_content(|w| {
                xml::text_element(w, "code", status.as_str());
                xml::text_element(w, "regle", &self.rule());
                xml::text_element(w, "champ", &fault.field);
                for (lang, message) in [("fr", &fault.fr), ("en", &fault.en)] {
                    w.create_element("message")
                        .with_attribute(("xml:lang", lang))
                        .write_text_content(xml::escaped(message))?;
                }
                Ok(())
            })
            .expect("writing to memory cannot fail");
        HttpResponse::build(status).content_type(xml::CONTENT_TYPE).body(writer.into_inner())
    }
}
