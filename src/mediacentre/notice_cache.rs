//! Each node's copy of the catalogue's notices, so that a listing reads only its grants from the
//! database. Every entry carries the resource's `updated_at`; at most every
//! `mediacentre.catalogue_refresh_secs` one listing compares them with the database and drops the
//! changed ones. A notice not held yet (a resource just imported) is read at once. Nothing here
//! is shared between nodes: each refreshes from the database, the one source of truth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::domain::catalogue::ResourceNotice;
use crate::store::{AnyConnection, StoreError, catalogue};

/// Notices by resource id, with the `updated_at` they were read at.
#[derive(Default)]
pub struct NoticeCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    notices: HashMap<String, (Arc<ResourceNotice>, NaiveDateTime)>,
    checked: Option<Instant>,
}

impl NoticeCache {
    /// The notices of the stored resources among `ids`, in no particular order.
    pub fn get(
        &self,
        conn: &mut AnyConnection,
        ids: &[&str],
        refresh: Duration,
    ) -> Result<Vec<Arc<ResourceNotice>>, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.checked.is_none_or(|at| at.elapsed() >= refresh) {
            let versions: HashMap<String, NaiveDateTime> = catalogue::versions(conn)?.into_iter().collect();
            inner.notices.retain(|id, (_, at)| versions.get(id) == Some(at));
            inner.checked = Some(Instant::now());
        }
        let missing: Vec<&str> = ids.iter().copied().filter(|id| !inner.notices.contains_key(*id)).collect();
        if !missing.is_empty() {
            for (notice, at) in catalogue::find_versioned_notices(conn, &missing)? {
                inner.notices.insert(notice.id.clone(), (Arc::new(notice), at));
            }
        }
        Ok(ids.iter().filter_map(|id| inner.notices.get(*id).map(|(notice, _)| notice.clone())).collect())
    }
}
