//! How an import tells its caller where it stands (the CLI draws a progress bar from it).

/// The steps of an import, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Comparing the bundle with its `.md5`.
    Checksum,
    /// Parsing the files into staging.
    Reading,
    /// Checking references and computing what would change.
    Checking,
    /// Writing the directory, in one transaction.
    Applying,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Checksum => "checking the checksum",
            Phase::Reading => "reading",
            Phase::Checking => "checking",
            Phase::Applying => "applying",
        }
    }
}

/// Receives progress; called from the import's threads.
pub trait Progress: Sync {
    /// Bytes of the export read from disk so far, out of `total`.
    fn bytes(&self, _done: u64, _total: u64) {}
    fn phase(&self, _phase: Phase) {}
}

/// No progress reporting (server-side imports log instead).
pub struct Silent;

impl Progress for Silent {}
