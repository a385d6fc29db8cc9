//! Database URLs, connections and the connection pool.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;

/// A connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// The two storage backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgresql,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgresql => "PostgreSQL",
        })
    }
}

/// A parsed database URL: `sqlite://PATH` (or `sqlite:PATH`), `postgres://…` or `postgresql://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgresql(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err("a sqlite URL needs a file path, e.g. sqlite://data/sesame.sqlite3".into());
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgresql(url.to_owned()))
        } else {
            Err("expected a URL starting with sqlite://, postgres:// or postgresql://".into())
        }
    }

    /// The URL with its password, for configuration handed on; `Display` hides the password.
    pub fn expose(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgresql(url) => url.clone(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgresql(_) => Backend::Postgresql,
        }
    }

    /// Opens one connection, with the per-connection settings Sesame relies on.
    pub fn connect(&self) -> Result<AnyConnection, StoreError> {
        match self {
            Self::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::Connect {
                        url: self.to_string(),
                        reason: format!("cannot create folder {}: {e}", parent.display()),
                    })?;
                }
                let mut conn =
                    SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| self.connect_error(e))?;
                // WAL lets readers run beside the writer; busy_timeout makes writers queue
                // instead of failing; foreign keys are off by default in SQLite; memory-mapped
                // reads share the OS page cache between connections instead of copying each page.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA mmap_size = 1073741824;",
                )
                .map_err(|e| StoreError::Connect { url: self.to_string(), reason: e.to_string() })?;
                Ok(AnyConnection::Sqlite(conn))
            }
            Self::Postgresql(url) => {
                PgConnection::establish(url).map(AnyConnection::Postgresql).map_err(|e| self.connect_error(e))
            }
        }
    }

    fn connect_error(&self, e: diesel::ConnectionError) -> StoreError {
        StoreError::Connect { url: self.to_string(), reason: e.to_string().trim().to_owned() }
    }

    /// Builds a pool and checks one connection at once, so a bad URL fails at start.
    pub fn pool(&self, max_size: u32) -> Result<Pool, StoreError> {
        let manager = ConnectionManager { url: self.clone() };
        let first = manager.connect()?;
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build_unchecked(manager);
        drop(first);
        Ok(pool)
    }
}

/// Shows the URL without its password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgresql(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    write!(f, "{parsed}")
                }
                _ => f.write_str(url),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// r2d2 manager that dispatches on the URL instead of trying every backend.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<AnyConnection, StoreError> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::Query)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// Failures of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database work was cancelled")]
    Cancelled,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_decides_backend() {
        assert_eq!(DatabaseUrl::parse("sqlite://a/b.db").unwrap(), DatabaseUrl::Sqlite("a/b.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:b.db").unwrap(), DatabaseUrl::Sqlite("b.db".into()));
        assert_eq!(DatabaseUrl::parse("postgresql://h/db").unwrap().backend(), Backend::Postgresql);
        assert!(DatabaseUrl::parse("postgre://h/db").is_err());
        assert!(DatabaseUrl::parse("/var/lib/sesame.db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn display_hides_password() {
        let url = DatabaseUrl::parse("postgres://sesame:s3cret@db:5432/sesame").unwrap();
        assert_eq!(url.to_string(), "postgres://sesame:***@db:5432/sesame");
    }
}
