//! Reading GAR-ENT XML files: the schemas as data (`spec`), a hardened streaming reader
//! (`reader`), record validation (`record`) and conversion to domain records (`records`).

mod counted;
pub mod reader;
pub mod record;
pub mod records;
pub mod spec;

pub use reader::{FeedReader, FileError, FileHeader};
pub use record::{Invalid, validate};
pub use records::{DroppedPart, Parsed, parse};
pub use spec::FileType;
