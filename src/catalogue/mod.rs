//! The resource catalogue: publishers' notices, imported with `sesame resource import FILE`
//! (format: `schema/resource-import.schema.json`) and served to ENTs by the médiacentre.

mod import;

pub use import::{ImportError, ImportReport, import_file, import_json};
