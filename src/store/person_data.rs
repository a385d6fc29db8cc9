//! Everything Sesame holds about one person, read for a data-subject export and removed for an
//! erasure request or when the retention grace after leaving the directory has passed.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    assignment_history, assignment_manager_establishments, assignment_managers, assignment_seats, assignments,
    establishments, licence_pools, mefs, person_establishments, person_groups, person_mefs, person_mefstat4,
    person_profiles, persons, pupil_subjects, school_groups, subjects, subscriptions, teacher_group_subjects,
    teacher_posts, web_sessions,
};
use super::{AnyConnection, StoreError, entitlements, write_transaction};
use crate::domain::entitlement::{AllSchools, Clock, How};
use crate::domain::licence::PoolPublic;

/// A `persons` row: the identity data the ENT feed sent.
#[derive(Clone, Debug, Queryable)]
pub struct PersonRecord {
    pub id: i64,
    pub ent_id: String,
    pub gar_id: String,
    pub source: String,
    pub secondary_id: Option<String>,
    pub birth_name: Option<String>,
    pub last_name: String,
    pub first_name: String,
    /// JSON array.
    pub other_first_names: String,
    pub civility: Option<String>,
    pub attachment_uai: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// JSON array.
    pub mails: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

/// The person of an ENT project with this GARPersonIdentifiant, removed or not.
pub fn find_person(conn: &mut AnyConnection, ent_id: &str, gar_id: &str) -> Result<Option<PersonRecord>, StoreError> {
    Ok(persons::table
        .filter(persons::ent_id.eq(ent_id))
        .filter(persons::gar_id.eq(gar_id))
        .select((
            persons::id,
            persons::ent_id,
            persons::gar_id,
            persons::source,
            persons::secondary_id,
            persons::birth_name,
            persons::last_name,
            persons::first_name,
            persons::other_first_names,
            persons::civility,
            persons::attachment_uai,
            persons::birth_date,
            persons::mails,
            persons::created_at,
            persons::updated_at,
            persons::removed_at,
        ))
        .first(conn)
        .optional()?)
}

/// A class (DIVISION) or group the person belongs to.
#[derive(Clone, Debug, Queryable)]
pub struct GroupMembership {
    pub uai: String,
    pub code: String,
    pub label: String,
    pub status: String,
}

/// A coded item of a school (MEF, subject, post) with its label when the school defines one.
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct Coded {
    pub uai: String,
    pub code: String,
    pub label: Option<String>,
}

/// What a teacher teaches to which class or group.
#[derive(Clone, Debug, Queryable)]
pub struct TaughtSubject {
    pub uai: String,
    pub group_code: String,
    pub subject_code: String,
    pub subject_label: Option<String>,
}

/// The person's schools and everything attached to them there.
#[derive(Clone, Debug, Default)]
pub struct Memberships {
    /// UAI → school name.
    pub schools: BTreeMap<String, String>,
    /// (UAI, profile).
    pub profiles: Vec<(String, String)>,
    pub groups: Vec<GroupMembership>,
    pub taught_subjects: Vec<TaughtSubject>,
    pub mefs: Vec<Coded>,
    /// (UAI, MEFSTAT4 code).
    pub mefstat4: Vec<(String, String)>,
    pub pupil_subjects: Vec<Coded>,
    /// (UAI, post code, DISCIPLINE or SPECIALITE).
    pub teacher_posts: Vec<(String, String, String)>,
}

impl Memberships {
    /// Rows that hang off the person in the directory tables.
    pub fn rows(&self) -> usize {
        self.schools.len()
            + self.profiles.len()
            + self.groups.len()
            + self.taught_subjects.len()
            + self.mefs.len()
            + self.mefstat4.len()
            + self.pupil_subjects.len()
            + self.teacher_posts.len()
    }
}

pub fn memberships(conn: &mut AnyConnection, person_id: i64) -> Result<Memberships, StoreError> {
    let schools = person_establishments::table
        .inner_join(establishments::table)
        .filter(person_establishments::person_id.eq(person_id))
        .select((establishments::uai, establishments::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let profiles = person_profiles::table
        .filter(person_profiles::person_id.eq(person_id))
        .order((person_profiles::uai, person_profiles::profile))
        .select((person_profiles::uai, person_profiles::profile))
        .load(conn)?;
    let groups = person_groups::table
        .inner_join(school_groups::table)
        .filter(person_groups::person_id.eq(person_id))
        .order((school_groups::uai, school_groups::status, school_groups::code))
        .select((school_groups::uai, school_groups::code, school_groups::label, school_groups::status))
        .load(conn)?;
    let taught_subjects = teacher_group_subjects::table
        .inner_join(school_groups::table)
        .left_join(
            subjects::table
                .on(subjects::uai.eq(school_groups::uai).and(subjects::code.eq(teacher_group_subjects::subject_code))),
        )
        .filter(teacher_group_subjects::person_id.eq(person_id))
        .order((school_groups::uai, school_groups::code, teacher_group_subjects::subject_code))
        .select((
            school_groups::uai,
            school_groups::code,
            teacher_group_subjects::subject_code,
            subjects::label.nullable(),
        ))
        .load(conn)?;
    let mefs = person_mefs::table
        .left_join(mefs::table.on(mefs::uai.eq(person_mefs::uai).and(mefs::code.eq(person_mefs::mef_code))))
        .filter(person_mefs::person_id.eq(person_id))
        .order((person_mefs::uai, person_mefs::mef_code))
        .select((person_mefs::uai, person_mefs::mef_code, mefs::label.nullable()))
        .load(conn)?;
    let mefstat4 = person_mefstat4::table
        .filter(person_mefstat4::person_id.eq(person_id))
        .order((person_mefstat4::uai, person_mefstat4::code))
        .select((person_mefstat4::uai, person_mefstat4::code))
        .load(conn)?;
    let pupil_subjects = pupil_subjects::table
        .left_join(
            subjects::table
                .on(subjects::uai.eq(pupil_subjects::uai).and(subjects::code.eq(pupil_subjects::subject_code))),
        )
        .filter(pupil_subjects::person_id.eq(person_id))
        .order((pupil_subjects::uai, pupil_subjects::subject_code))
        .select((pupil_subjects::uai, pupil_subjects::subject_code, subjects::label.nullable()))
        .load(conn)?;
    let teacher_posts = teacher_posts::table
        .filter(teacher_posts::person_id.eq(person_id))
        .order((teacher_posts::uai, teacher_posts::code))
        .select((teacher_posts::uai, teacher_posts::code, teacher_posts::kind))
        .load(conn)?;
    Ok(Memberships { schools, profiles, groups, taught_subjects, mefs, mefstat4, pupil_subjects, teacher_posts })
}

/// The subscription behind a seat or a school-wide access.
#[derive(Clone, Debug, Queryable)]
pub struct SubscriptionRef {
    pub id: i64,
    pub distributor_id: String,
    /// idAbonnement.
    pub external_id: String,
    pub resource_id: String,
    pub resource_label: String,
    /// INDIV or ETABL.
    pub assignment_type: String,
    pub valid_from: NaiveDateTime,
    pub valid_until: Option<NaiveDateTime>,
    pub end_school_year: Option<String>,
    pub deleted_at: Option<NaiveDateTime>,
}

type SubscriptionColumns = (
    subscriptions::id,
    subscriptions::distributor_id,
    subscriptions::external_id,
    subscriptions::resource_id,
    subscriptions::resource_label,
    subscriptions::assignment_type,
    subscriptions::valid_from,
    subscriptions::valid_until,
    subscriptions::end_school_year,
    subscriptions::deleted_at,
);

const SUBSCRIPTION_COLUMNS: SubscriptionColumns = (
    subscriptions::id,
    subscriptions::distributor_id,
    subscriptions::external_id,
    subscriptions::resource_id,
    subscriptions::resource_label,
    subscriptions::assignment_type,
    subscriptions::valid_from,
    subscriptions::valid_until,
    subscriptions::end_school_year,
    subscriptions::deleted_at,
);

/// A seat the person holds, waits for or held, with the assignment that gave it.
#[derive(Clone, Debug, Queryable)]
pub struct SeatRecord {
    pub uai: String,
    pub public: String,
    /// ACTIVE, WAITING or RELEASED.
    pub status: String,
    pub granted_at: NaiveDateTime,
    pub released_at: Option<NaiveDateTime>,
    pub release_reason: Option<String>,
    /// PERSON, DIVISION, GROUPE…: how the manager targeted the person.
    pub target_kind: String,
    pub assigned_at: NaiveDateTime,
    pub assignment_revoked_at: Option<NaiveDateTime>,
    pub subscription: SubscriptionRef,
}

pub fn seats(conn: &mut AnyConnection, person_id: i64) -> Result<Vec<SeatRecord>, StoreError> {
    Ok(assignment_seats::table
        .inner_join(assignments::table)
        .inner_join(subscriptions::table)
        .filter(assignment_seats::person_id.eq(person_id))
        .order(assignment_seats::id)
        .select((
            assignment_seats::uai,
            assignment_seats::public,
            assignment_seats::status,
            assignment_seats::granted_at,
            assignment_seats::released_at,
            assignment_seats::release_reason,
            assignments::target_kind,
            assignments::created_at,
            assignments::revoked_at,
            SUBSCRIPTION_COLUMNS,
        ))
        .load(conn)?)
}

/// Access without a seat: an ETABL subscription reaching one of the person's publics in a school,
/// as the entitlement resolution (the same as the médiacentre's and sign-on's) finds it.
#[derive(Clone, Debug)]
pub struct SchoolWideAccess {
    pub uai: String,
    /// The person's profiles in that school, e.g. `National_elv`.
    pub profiles: Vec<String>,
    pub subscription: SubscriptionRef,
}

pub fn school_wide_access(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
    clock: Clock,
) -> Result<Vec<SchoolWideAccess>, StoreError> {
    let AllSchools::Schools { schools } = entitlements::resolve_all(conn, ent_id, gar_id, clock)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for (uai, granted) in schools {
        let school_wide = granted.resources.iter().flat_map(|r| &r.grants).filter(|g| g.how == How::SchoolWide);
        for grant in school_wide {
            let subscription: SubscriptionRef =
                subscriptions::table.find(grant.subscription_id).select(SUBSCRIPTION_COLUMNS).first(conn)?;
            let profiles = granted.profiles.iter().map(|p| p.code().to_owned()).collect();
            found.push(SchoolWideAccess { uai: uai.to_string(), profiles, subscription });
        }
    }
    Ok(found)
}

/// The person's record as an assignment manager (GARRespAff), if they are one.
#[derive(Clone, Debug)]
pub struct ManagerRecord {
    pub last_name: String,
    pub first_name: String,
    pub civility: Option<String>,
    /// JSON array.
    pub mails: String,
    pub establishments: Vec<String>,
}

pub fn manager_record(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
) -> Result<Option<ManagerRecord>, StoreError> {
    let found: Option<(i64, String, String, Option<String>, String)> = assignment_managers::table
        .filter(assignment_managers::ent_id.eq(ent_id))
        .filter(assignment_managers::gar_id.eq(gar_id))
        .select((
            assignment_managers::id,
            assignment_managers::last_name,
            assignment_managers::first_name,
            assignment_managers::civility,
            assignment_managers::mails,
        ))
        .first(conn)
        .optional()?;
    let Some((id, last_name, first_name, civility, mails)) = found else { return Ok(None) };
    let establishments = assignment_manager_establishments::table
        .filter(assignment_manager_establishments::manager_id.eq(id))
        .order(assignment_manager_establishments::uai)
        .select(assignment_manager_establishments::uai)
        .load(conn)?;
    Ok(Some(ManagerRecord { last_name, first_name, civility, mails, establishments }))
}

/// Open browser sessions: (LAUNCH or CONSOLE, created, expires).
pub fn sessions(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
) -> Result<Vec<(String, NaiveDateTime, NaiveDateTime)>, StoreError> {
    Ok(web_sessions::table
        .filter(web_sessions::ent_id.eq(ent_id))
        .filter(web_sessions::gar_id.eq(gar_id))
        .order(web_sessions::created_at)
        .select((web_sessions::kind, web_sessions::created_at, web_sessions::expires_at))
        .load(conn)?)
}

/// What removing a person deleted or changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErasedCounts {
    pub persons: usize,
    /// Rows in the directory tables hanging off the person (schools, profiles, groups…).
    pub memberships: usize,
    /// Active seats given back to their licence counter.
    pub seats_freed: usize,
    /// Seat rows deleted, whatever their status.
    pub seats_deleted: usize,
    /// Rows that named the person (as an assignment's target, author or revoker, or as the actor
    /// of assignment history), now naming their audit pseudonym instead.
    pub pseudonymised: usize,
    pub sessions: usize,
    pub manager_records: usize,
}

impl std::ops::AddAssign for ErasedCounts {
    fn add_assign(&mut self, other: Self) {
        self.persons += other.persons;
        self.memberships += other.memberships;
        self.seats_freed += other.seats_freed;
        self.seats_deleted += other.seats_deleted;
        self.pseudonymised += other.pseudonymised;
        self.sessions += other.sessions;
        self.manager_records += other.manager_records;
    }
}

/// Who is being removed and why.
pub struct Removal<'a> {
    pub ent_id: &'a str,
    pub gar_id: &'a str,
    /// The `persons.id`, when the directory still has the person.
    pub person_id: Option<i64>,
    /// The person's audit pseudonym, which replaces their GARPersonIdentifiant in assignments.
    pub pseudonym: &'a str,
    /// Written as the release reason of freed seats and the revoke reason of personal assignments.
    pub reason: &'a str,
    /// Also remove the person's assignment-manager record (an erasure request; a retention purge
    /// leaves it to the GARRespAff feed).
    pub manager_record: bool,
    pub now: NaiveDateTime,
}

/// Removes a person: frees their active seats (each licence counter goes down by the seats it
/// counted), deletes their seats, directory record (memberships cascade) and sessions, revokes
/// assignments made to them alone, and replaces their identifier by their pseudonym wherever an
/// assignment or its history names them. One transaction.
pub fn remove_person(conn: &mut AnyConnection, removal: &Removal<'_>) -> Result<ErasedCounts, StoreError> {
    write_transaction(conn, |conn| {
        let mut counts = ErasedCounts::default();
        if let Some(person_id) = removal.person_id {
            counts.seats_freed = free_active_seats(conn, person_id)?;
            counts.seats_deleted =
                diesel::delete(assignment_seats::table.filter(assignment_seats::person_id.eq(person_id)))
                    .execute(conn)?;
            counts.memberships = memberships(conn, person_id)?.rows();
            counts.persons = diesel::delete(persons::table.find(person_id)).execute(conn)?;
        }
        counts.pseudonymised = pseudonymise_assignments(conn, removal)?;
        counts.sessions = diesel::delete(
            web_sessions::table
                .filter(web_sessions::ent_id.eq(removal.ent_id))
                .filter(web_sessions::gar_id.eq(removal.gar_id)),
        )
        .execute(conn)?;
        if removal.manager_record {
            counts.manager_records = diesel::delete(
                assignment_managers::table
                    .filter(assignment_managers::ent_id.eq(removal.ent_id))
                    .filter(assignment_managers::gar_id.eq(removal.gar_id)),
            )
            .execute(conn)?;
        }
        Ok(counts)
    })
}

/// Revokes assignments made to the person alone, and puts their pseudonym in place of their
/// identifier in the assignments and history of their ENT project's schools.
fn pseudonymise_assignments(conn: &mut AnyConnection, removal: &Removal<'_>) -> Result<usize, StoreError> {
    let (gar_id, pseudonym) = (removal.gar_id, removal.pseudonym);
    let schools =
        || establishments::table.filter(establishments::ent_id.eq(removal.ent_id)).select(establishments::uai);
    let in_schools = || assignments::table.filter(assignments::uai.eq_any(schools()));
    let personal =
        || in_schools().filter(assignments::target_kind.eq("PERSON")).filter(assignments::target_ref.eq(gar_id));
    diesel::update(personal().filter(assignments::revoked_at.is_null()))
        .set((
            assignments::revoked_at.eq(removal.now),
            assignments::revoked_by.eq("system"),
            assignments::revoke_reason.eq(removal.reason),
        ))
        .execute(conn)?;
    let mut changed = diesel::update(personal()).set(assignments::target_ref.eq(pseudonym)).execute(conn)?;
    changed += diesel::update(in_schools().filter(assignments::created_by.eq(gar_id)))
        .set(assignments::created_by.eq(pseudonym))
        .execute(conn)?;
    changed += diesel::update(in_schools().filter(assignments::revoked_by.eq(gar_id)))
        .set(assignments::revoked_by.eq(pseudonym))
        .execute(conn)?;
    let history = || assignment_history::table.filter(assignment_history::uai.eq_any(schools()));
    changed += diesel::update(history().filter(assignment_history::actor.eq(gar_id)))
        .set(assignment_history::actor.eq(pseudonym))
        .execute(conn)?;
    changed += diesel::update(history().filter(assignment_history::undone_by.eq(gar_id)))
        .set(assignment_history::undone_by.eq(pseudonym))
        .execute(conn)?;
    Ok(changed)
}

/// Gives each ACTIVE seat back to the counter it was taken from: the school's GLOBAL pool when the
/// subscription has one, else the pool of the seat's public (as `store::assignments::assign` took it).
fn free_active_seats(conn: &mut AnyConnection, person_id: i64) -> Result<usize, StoreError> {
    let active: Vec<(i64, String, String)> = assignment_seats::table
        .filter(assignment_seats::person_id.eq(person_id))
        .filter(assignment_seats::status.eq("ACTIVE"))
        .select((assignment_seats::subscription_id, assignment_seats::uai, assignment_seats::public))
        .load(conn)?;
    for (subscription_id, uai, public) in &active {
        let pools = licence_pools::table
            .filter(licence_pools::subscription_id.eq(subscription_id))
            .filter(licence_pools::uai.eq(uai));
        let has_global: bool =
            diesel::select(diesel::dsl::exists(pools.filter(licence_pools::public.eq(PoolPublic::Global.code()))))
                .get_result(conn)?;
        let pool = if has_global { PoolPublic::Global.code() } else { public.as_str() };
        let freed = diesel::update(pools.filter(licence_pools::public.eq(pool)).filter(licence_pools::used.gt(0)))
            .set(licence_pools::used.eq(licence_pools::used - 1))
            .execute(conn)?;
        if freed == 0 {
            tracing::warn!(subscription_id, uai, pool, "a seat was active but its counter was already at zero");
        }
    }
    Ok(active.len())
}
