//! Entitlement rules: which resources a person may open in a school, and which subscription grants
//! each. The one place these rules live (README, "Licence rules"); `store::entitlements` loads the
//! facts and the médiacentre listing and sign-on both ask it.

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use super::subscription::ends_at;
use super::{Profile, Public, Uai};

/// The moment access is decided, with the grace the configuration gives deleted subscriptions
/// (`licences.deletion_grace_days`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub now: NaiveDateTime,
    pub deletion_grace: TimeDelta,
}

impl Clock {
    pub fn new(now: NaiveDateTime, deletion_grace_days: u32) -> Self {
        Self { now, deletion_grace: TimeDelta::days(i64::from(deletion_grace_days)) }
    }
}

/// A subscription's period and deletion: what decides whether it grants at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    /// debutValidite.
    pub valid_from: NaiveDateTime,
    /// finValidite, or the end of anneeFinValidite.
    pub ends_at: Option<NaiveDateTime>,
    /// When the distributor deleted it.
    pub deleted_at: Option<NaiveDateTime>,
}

impl Term {
    /// From the stored columns (`valid_from`, `valid_until`, `end_school_year`, `deleted_at`).
    pub fn new(
        valid_from: NaiveDateTime,
        valid_until: Option<NaiveDateTime>,
        end_school_year: Option<&str>,
        deleted_at: Option<NaiveDateTime>,
    ) -> Self {
        Self { valid_from, ends_at: ends_at(valid_until, end_school_year), deleted_at }
    }

    /// Within `debutValidite` … end, bounds included.
    pub fn in_force(&self, now: NaiveDateTime) -> bool {
        self.valid_from <= now && self.ends_at.is_some_and(|end| now <= end)
    }

    /// Until when a deleted subscription keeps granting what it already gave.
    pub fn grace_end(&self, clock: &Clock) -> Option<NaiveDateTime> {
        self.deleted_at.map(|deleted| deleted + clock.deletion_grace)
    }

    /// Whether the seats and school-wide access it gave open the resource now.
    pub fn grants(&self, clock: &Clock) -> bool {
        self.in_force(clock.now) && self.grace_end(clock).is_none_or(|end| clock.now <= end)
    }

    /// Whether managers may still give it out: not deleted and not over. Assigning ahead of
    /// `debutValidite` is allowed, so schools can prepare the new school year.
    pub fn takes_new_seats(&self, now: NaiveDateTime) -> bool {
        self.deleted_at.is_none() && self.ends_at.is_some_and(|end| now <= end)
    }
}

/// How a subscription gives a person access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum How {
    /// INDIV: the person holds a seat.
    Seat,
    /// ETABL: the person's public is one the school receives.
    SchoolWide,
}

/// One subscription giving access to a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub subscription_id: i64,
    pub how: How,
}

/// A resource the person may open, with every subscription that grants it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantedResource {
    pub resource_id: String,
    pub grants: Vec<Grant>,
}

/// An active seat of the person, with its subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatFact {
    pub subscription_id: i64,
    pub resource_id: String,
    pub term: Term,
}

/// An ETABL subscription of the school, with the publics the school receives: `publicCible`
/// less those a manager switched off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolWideFact {
    pub subscription_id: i64,
    pub resource_id: String,
    pub term: Term,
    pub publics: Vec<Public>,
}

/// What a person holding `profiles` in a school may open, sorted by resource id.
pub fn granted_resources(
    profiles: &[Profile],
    seats: &[SeatFact],
    school_wide: &[SchoolWideFact],
    clock: &Clock,
) -> Vec<GrantedResource> {
    let mut grants: Vec<(&str, Grant)> = Vec::with_capacity(seats.len() + school_wide.len());
    for seat in seats.iter().filter(|seat| seat.term.grants(clock)) {
        grants.push((&seat.resource_id, Grant { subscription_id: seat.subscription_id, how: How::Seat }));
    }
    for fact in school_wide.iter().filter(|fact| fact.term.grants(clock)) {
        if profiles.iter().any(|profile| fact.publics.contains(&profile.public())) {
            grants.push((&fact.resource_id, Grant { subscription_id: fact.subscription_id, how: How::SchoolWide }));
        }
    }
    grants.sort_unstable();
    grants.dedup();
    let mut resources: Vec<GrantedResource> = Vec::new();
    for (resource_id, grant) in grants {
        match resources.last_mut() {
            Some(last) if last.resource_id == resource_id => last.grants.push(grant),
            _ => resources.push(GrantedResource { resource_id: resource_id.to_owned(), grants: vec![grant] }),
        }
    }
    resources
}

/// A known person in one of their schools and what they may open there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entitlements {
    /// `persons.id`.
    pub person_id: i64,
    /// The person's profiles in the school, sorted.
    pub profiles: Vec<Profile>,
    /// Sorted by resource id; empty when nothing is granted.
    pub resources: Vec<GrantedResource>,
}

impl Entitlements {
    /// The grants for one resource, if the person may open it.
    pub fn resource(&self, resource_id: &str) -> Option<&GrantedResource> {
        self.resources
            .binary_search_by(|granted| granted.resource_id.as_str().cmp(resource_id))
            .ok()
            .and_then(|at| self.resources.get(at))
    }
}

/// The answer for (ENT project, person, school).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Resolution {
    /// No such GARPersonIdentifiant in the ENT project (or removed from its directory).
    UnknownPerson,
    /// No such school, or a school of another ENT project: the same answer, so nothing leaks.
    UnknownSchool,
    /// The person exists but holds no profile in that school.
    NotInSchool,
    Granted(Entitlements),
}

/// The answer for (ENT project, person) over every school of the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AllSchools {
    UnknownPerson,
    /// One entry per school where the person holds a profile, sorted by UAI.
    Schools {
        schools: Vec<(Uai, Entitlements)>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        crate::domain::subscription::parse_gar_datetime(text).unwrap()
    }

    fn term(deleted_at: Option<&str>) -> Term {
        Term::new(at("2026-09-01T00:00:00"), None, Some("2026-2027"), deleted_at.map(at))
    }

    #[test]
    fn validity_window_and_grace() {
        let clock = |now| Clock::new(at(now), 15);
        let live = term(None);
        assert!(!live.grants(&clock("2026-08-31T23:59:59")));
        assert!(live.grants(&clock("2026-09-01T00:00:00")));
        assert!(live.grants(&clock("2027-08-31T23:59:59")));
        assert!(!live.grants(&clock("2027-09-01T00:00:00")));
        assert!(live.takes_new_seats(at("2026-06-15T00:00:00")), "managers prepare the year ahead");
        assert!(!live.takes_new_seats(at("2027-09-01T00:00:00")));

        let deleted = term(Some("2026-11-01T10:00:00"));
        assert!(!deleted.takes_new_seats(at("2026-11-01T10:00:01")));
        assert_eq!(deleted.grace_end(&clock("2026-11-02T00:00:00")), Some(at("2026-11-16T10:00:00")));
        assert!(deleted.grants(&clock("2026-11-16T10:00:00")));
        assert!(!deleted.grants(&clock("2026-11-16T10:00:01")));
        assert!(!deleted.grants(&Clock::new(at("2026-11-02T00:00:00"), 0)));
    }

    #[test]
    fn seats_and_school_wide_access_combine_per_resource() {
        let clock = Clock::new(at("2026-12-01T00:00:00"), 15);
        let seat = |id, resource: &str, term| SeatFact { subscription_id: id, resource_id: resource.into(), term };
        let wide = |id, resource: &str, publics: &[Public]| SchoolWideFact {
            subscription_id: id,
            resource_id: resource.into(),
            term: term(None),
            publics: publics.to_vec(),
        };
        let seats = [seat(1, "ark:/b", term(None)), seat(2, "ark:/a", term(Some("2026-10-01T00:00:00")))];
        let school_wide = [
            wide(3, "ark:/b", &[Public::Pupil]),
            wide(4, "ark:/c", &[Public::Teacher]),
            wide(5, "ark:/d", &[Public::OtherStaff, Public::Pupil]),
        ];
        let granted = granted_resources(&[Profile::Pupil], &seats, &school_wide, &clock);
        let summary: Vec<(&str, Vec<Grant>)> =
            granted.iter().map(|r| (r.resource_id.as_str(), r.grants.clone())).collect();
        assert_eq!(
            summary,
            [
                (
                    "ark:/b",
                    vec![
                        Grant { subscription_id: 1, how: How::Seat },
                        Grant { subscription_id: 3, how: How::SchoolWide }
                    ]
                ),
                ("ark:/d", vec![Grant { subscription_id: 5, how: How::SchoolWide }]),
            ],
            "the deleted subscription 2 is past its grace; 4 is for teachers"
        );
        let entitlements = Entitlements { person_id: 1, profiles: vec![Profile::Pupil], resources: granted };
        assert!(entitlements.resource("ark:/d").is_some());
        assert!(entitlements.resource("ark:/c").is_none());

        // A head who also teaches gets the teachers' school-wide resource.
        let granted = granted_resources(&[Profile::Teacher, Profile::Management], &[], &school_wide, &clock);
        assert_eq!(granted.iter().map(|r| r.resource_id.as_str()).collect::<Vec<_>>(), ["ark:/c", "ark:/d"]);
    }
}
