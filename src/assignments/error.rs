//! Why a ledger change was refused. Every refusal leaves the database as it was; the console API
//! and pages each render these in their own format.

use crate::domain::Public;
use crate::domain::assignment::{AssignmentTarget, TargetError};
use crate::domain::licence::PoolPublic;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No such subscription for this school (another school's is "not found" too).
    #[error("subscription {0} does not exist for this school")]
    UnknownSubscription(i64),
    #[error("{0} names nobody in this school")]
    UnknownTarget(AssignmentTarget),
    #[error(transparent)]
    BadTarget(#[from] TargetError),
    /// ETABL subscriptions are switched on or off per public, never assigned.
    #[error("subscription {0} is school-wide (ETABL): switch its publics on or off instead")]
    SchoolWide(i64),
    /// Switching publics only applies to ETABL subscriptions.
    #[error("subscription {0} gives individual licences (INDIV): assign it to people instead")]
    Individual(i64),
    #[error("subscription {subscription} is not for the public {public}")]
    PublicNotSubscribed { subscription: i64, public: Public },
    #[error("subscription {0} has no licence for this person's public")]
    NotLicensed(i64),
    #[error("subscription {0} was deleted by its distributor or has ended: it takes no new assignment")]
    Closed(i64),
    #[error("this resource is already assigned to {target} (assignment {assignment})")]
    AlreadyAssigned { assignment: i64, target: AssignmentTarget },
    #[error("nobody in {0} holds this resource through an assignment")]
    NothingToWithdraw(AssignmentTarget),
    #[error("no licence left: {needed} needed for {pool}, {free} free")]
    NoLicenceLeft { pool: PoolPublic, needed: i64, free: i64 },
    #[error("history entry {0} does not exist for this school")]
    UnknownHistory(i64),
    #[error("history entry {0} was already undone")]
    AlreadyUndone(i64),
    #[error("history entry {id} cannot be undone: {reason}")]
    NotUndoable { id: i64, reason: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for LedgerError {
    fn from(e: diesel::result::Error) -> Self {
        LedgerError::Store(StoreError::Query(e))
    }
}

impl LedgerError {
    /// A stable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownSubscription(_) => "UNKNOWN_SUBSCRIPTION",
            Self::UnknownTarget(_) => "UNKNOWN_TARGET",
            Self::BadTarget(_) => "BAD_TARGET",
            Self::SchoolWide(_) => "SCHOOL_WIDE_SUBSCRIPTION",
            Self::Individual(_) => "INDIVIDUAL_SUBSCRIPTION",
            Self::PublicNotSubscribed { .. } => "PUBLIC_NOT_SUBSCRIBED",
            Self::NotLicensed(_) => "NOT_LICENSED",
            Self::Closed(_) => "SUBSCRIPTION_CLOSED",
            Self::AlreadyAssigned { .. } => "ALREADY_ASSIGNED",
            Self::NothingToWithdraw(_) => "NOTHING_TO_WITHDRAW",
            Self::NoLicenceLeft { .. } => "NO_LICENCE_LEFT",
            Self::UnknownHistory(_) => "UNKNOWN_HISTORY_ENTRY",
            Self::AlreadyUndone(_) => "ALREADY_UNDONE",
            Self::NotUndoable { .. } => "NOT_UNDOABLE",
            Self::Store(_) => "UNAVAILABLE",
        }
    }

    /// What a manager reads, in French.
    pub fn message_fr(&self) -> String {
        match self {
            Self::UnknownSubscription(_) => "Cette ressource n'existe pas pour cet établissement.".into(),
            Self::UnknownTarget(_) => "Personne ne correspond à cette cible dans l'établissement.".into(),
            Self::BadTarget(_) => "La cible de l'affectation est incomplète.".into(),
            Self::SchoolWide(_) => {
                "Cette ressource est attribuée à tout l'établissement : activez ou désactivez les publics concernés."
                    .into()
            }
            Self::Individual(_) => "Cette ressource s'affecte nominativement, pas par public.".into(),
            Self::PublicNotSubscribed { public, .. } => {
                format!("L'abonnement ne concerne pas le public « {} ».", public_label(*public))
            }
            Self::NotLicensed(_) => "L'abonnement n'a pas de licence pour le public de cette personne.".into(),
            Self::Closed(_) => {
                "Cet abonnement a été supprimé par le distributeur ou est terminé : il n'accepte plus d'affectation."
                    .into()
            }
            Self::AlreadyAssigned { .. } => "Cette ressource est déjà affectée à cette cible.".into(),
            Self::NothingToWithdraw(_) => "Personne dans cette cible n'a cette ressource par une affectation.".into(),
            Self::NoLicenceLeft { pool, needed, free } => {
                format!("Plus assez de licences ({}) : il en faut {needed}, il en reste {free}.", pool_label(*pool))
            }
            Self::UnknownHistory(_) => "Cette opération n'existe pas dans l'historique de l'établissement.".into(),
            Self::AlreadyUndone(_) => "Cette opération a déjà été annulée.".into(),
            Self::NotUndoable { reason, .. } => format!("Cette opération ne peut pas être annulée : {reason}."),
            Self::Store(_) => "Le service est momentanément indisponible. Réessayez dans un instant.".into(),
        }
    }
}

/// A public as the console names it.
pub fn public_label(public: Public) -> &'static str {
    match public {
        Public::Pupil => "élèves",
        Public::Teacher => "enseignants",
        Public::Librarian => "professeurs documentalistes",
        Public::OtherStaff => "autres personnels",
    }
}

/// A counter as the console names it.
pub fn pool_label(pool: PoolPublic) -> &'static str {
    match pool {
        PoolPublic::Global => "toutes publics confondus",
        PoolPublic::Public(public) => public_label(public),
    }
}
