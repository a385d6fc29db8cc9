//! Retention rules: from the configured periods and the current time, what is old enough to purge.
//!
//! Release and turnaway traces have their own (short) period; every other audit event the longer
//! `audit_days`; people removed from the directory a grace period; assignment history whole school
//! years (1 September to 31 August), so a school never loses part of a year.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta};

use super::audit::AuditKind;

/// Periods, in the units the configuration gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub release_days: u32,
    pub audit_days: u32,
    pub removed_person_grace_days: u32,
    pub assignment_history_school_years: u32,
}

/// Instants before which data is due for purging, for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutoffs {
    /// `release` and `turnaway` events strictly older than this go.
    pub release_events: NaiveDateTime,
    /// Every other audit event strictly older than this goes.
    pub other_events: NaiveDateTime,
    /// People removed from the directory strictly before this go.
    pub removed_persons: NaiveDateTime,
    /// Assignment history, revoked assignments and released seats from before this go.
    pub assignment_history: NaiveDateTime,
}

impl RetentionPolicy {
    pub fn cutoffs(&self, now: NaiveDateTime) -> Cutoffs {
        let days = |n: u32| now - TimeDelta::days(i64::from(n));
        let kept_years = i32::try_from(self.assignment_history_school_years.max(1)).unwrap_or(i32::MAX);
        let current = school_year_start(now.date());
        let first_kept =
            NaiveDate::from_ymd_opt(current.year().saturating_sub(kept_years - 1), 9, 1).unwrap_or(current);
        Cutoffs {
            release_events: days(self.release_days),
            other_events: days(self.audit_days),
            removed_persons: days(self.removed_person_grace_days),
            assignment_history: first_kept.and_hms_opt(0, 0, 0).expect("midnight exists"),
        }
    }
}

impl Cutoffs {
    /// Whether an audit event of this kind (stored code) recorded at `at` is due.
    pub fn event_is_due(&self, kind: &str, at: NaiveDateTime) -> bool {
        at < self.event_cutoff(kind)
    }

    /// The cutoff that applies to events of this kind.
    pub fn event_cutoff(&self, kind: &str) -> NaiveDateTime {
        if is_release_trace(kind) { self.release_events } else { self.other_events }
    }
}

/// Release and turnaway events: traces of a person's access to resources.
pub fn is_release_trace(kind: &str) -> bool {
    kind == AuditKind::Release.code() || kind == AuditKind::Turnaway.code()
}

/// 1 September of the school year `date` falls in.
pub fn school_year_start(date: NaiveDate) -> NaiveDate {
    let year = if date.month() >= 9 { date.year() } else { date.year() - 1 };
    NaiveDate::from_ymd_opt(year, 9, 1).expect("1 September exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(12, 0, 0).unwrap()
    }

    const POLICY: RetentionPolicy = RetentionPolicy {
        release_days: 365,
        audit_days: 1825,
        removed_person_grace_days: 30,
        assignment_history_school_years: 1,
    };

    #[test]
    fn school_years_start_on_1_september() {
        assert_eq!(school_year_start(at(2026, 8, 31).date()), NaiveDate::from_ymd_opt(2025, 9, 1).unwrap());
        assert_eq!(school_year_start(at(2026, 9, 1).date()), NaiveDate::from_ymd_opt(2026, 9, 1).unwrap());
        assert_eq!(school_year_start(at(2027, 1, 15).date()), NaiveDate::from_ymd_opt(2026, 9, 1).unwrap());
    }

    #[test]
    fn cutoffs_follow_the_policy() {
        let now = at(2026, 11, 25);
        let cutoffs = POLICY.cutoffs(now);
        assert_eq!(cutoffs.release_events, at(2025, 11, 25));
        assert_eq!(cutoffs.other_events, now - TimeDelta::days(1825));
        assert_eq!(cutoffs.removed_persons, at(2026, 10, 26));
        assert_eq!(
            cutoffs.assignment_history,
            NaiveDate::from_ymd_opt(2026, 9, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
        );
        let two_years = RetentionPolicy { assignment_history_school_years: 2, ..POLICY };
        assert_eq!(two_years.cutoffs(now).assignment_history.date(), NaiveDate::from_ymd_opt(2025, 9, 1).unwrap());
    }

    #[test]
    fn release_traces_have_their_own_period() {
        let cutoffs = POLICY.cutoffs(at(2026, 11, 25));
        let old = at(2025, 6, 1);
        assert!(cutoffs.event_is_due("release", old));
        assert!(cutoffs.event_is_due("turnaway", old));
        assert!(!cutoffs.event_is_due("assignment.created", old));
        assert!(!cutoffs.event_is_due("release", at(2026, 1, 1)));
        assert!(cutoffs.event_is_due("assignment.created", at(2021, 1, 1)));
    }
}
