//! Domain types: identifiers, codes and records that parse once and cannot be invalid. No I/O here.

pub mod assignment;
pub mod audit;
pub mod audit_checkpoint;
pub mod catalogue;
pub mod directory;
pub mod entitlement;
pub mod entry_url;
pub mod ledger;
pub mod licence;
pub mod national_school;
pub mod profile;
pub mod pseudonym;
pub mod public;
pub mod release;
pub mod retention;
pub mod siren_isni;
pub mod subscription;
pub mod uai;
pub mod web_origin;

pub use licence::LicenceCount;
pub use profile::Profile;
pub use public::Public;
pub use siren_isni::SirenIsni;
pub use uai::Uai;
