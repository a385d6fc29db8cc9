//! One distributor's subscriptions, filtered, sorted and paged (the abonnement search).

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamp};

use super::schema::{subscription_establishments, subscriptions};
use super::subscriptions::{StoredSubscription, load};
use super::{AnyConnection, StoreError};
use crate::domain::Public;

/// A condition on one field: the subscription matches when the field has one of the values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    ExternalId(Vec<String>),
    Distributor(Vec<String>),
    /// A school the subscription covers (given, or expanded from its natures).
    School(Vec<String>),
    AssignmentType(Vec<String>),
    Category(Vec<String>),
    Public(Vec<Public>),
    ProjectCode(Vec<String>),
}

/// The dates a search can bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateField {
    Created,
    Modified,
    ValidFrom,
    /// `finValidite`, or the end of `anneeFinValidite`.
    EndsAt,
}

/// `after <= field <= before`, either bound optional.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    pub field: DateField,
    pub after: Option<NaiveDateTime>,
    pub before: Option<NaiveDateTime>,
}

/// What results are sorted by; ties are broken by creation order, so pages never overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    #[default]
    ExternalId,
    ResourceId,
    ResourceIdType,
    ResourceLabel,
    ValidFrom,
    EndsAt,
    Category,
    AssignmentType,
    /// The first of the subscription's publics, in code order.
    Public,
    ProjectCode,
}

/// A search: every filter and date range must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    pub filters: Vec<Filter>,
    pub dates: Vec<DateRange>,
    pub sort: SortKey,
    pub descending: bool,
    /// Deleted subscriptions too (`aboSuppr=true`).
    pub include_deleted: bool,
    pub offset: i64,
    pub limit: i64,
}

/// The page of `distributor`'s subscriptions that `search` selects. Other distributors'
/// subscriptions are never considered, whatever the filters say.
pub fn search(
    conn: &mut AnyConnection,
    distributor: &str,
    search: &Search,
) -> Result<Vec<StoredSubscription>, StoreError> {
    let mut query = subscriptions::table.select(subscriptions::id).into_boxed();
    let by_school = search.filters.iter().any(|filter| matches!(filter, Filter::School(_)));
    query = match conn {
        // A school has few subscriptions: they are best found through the school's index, then
        // sorted. Without statistics (no ANALYZE), SQLite would rather walk the distributor's
        // whole index in idAbonnement order; the unary `+` keeps it off that index.
        AnyConnection::Sqlite(_) if by_school => {
            query.filter(sql::<Bool>("+subscriptions.distributor_id = ").bind::<Text, _>(distributor.to_owned()))
        }
        _ => query.filter(subscriptions::distributor_id.eq(distributor.to_owned())),
    };
    if !search.include_deleted {
        query = query.filter(subscriptions::deleted_at.is_null());
    }
    for filter in &search.filters {
        query = match filter.clone() {
            Filter::ExternalId(values) => query.filter(subscriptions::external_id.eq_any(values)),
            // Already scoped to the caller: either redundant or nothing matches. (As SQL it would
            // also undo the index choice made above.)
            Filter::Distributor(values) if values.iter().any(|value| value == distributor) => query,
            Filter::Distributor(_) => return Ok(Vec::new()),
            Filter::School(values) => query.filter(
                subscriptions::id.eq_any(
                    subscription_establishments::table
                        .filter(subscription_establishments::uai.eq_any(values))
                        .select(subscription_establishments::subscription_id),
                ),
            ),
            Filter::AssignmentType(values) => query.filter(subscriptions::assignment_type.eq_any(values)),
            Filter::Category(values) => query.filter(subscriptions::category.eq_any(values)),
            Filter::Public(publics) => {
                // A correlated EXISTS, not IN (…): a public matches most subscriptions, and the
                // page can then stream in index order instead of collecting every match first.
                // The codes are the four fixed ones, so they are written in the SQL.
                let codes: Vec<String> = publics.iter().map(|public| format!("'{}'", public.code())).collect();
                query.filter(sql::<Bool>(&format!(
                    "EXISTS (SELECT 1 FROM subscription_publics p WHERE p.subscription_id = subscriptions.id \
                     AND p.public IN ({}))",
                    codes.join(", ")
                )))
            }
            Filter::ProjectCode(values) => query.filter(subscriptions::project_code.eq_any(values)),
        };
    }
    for range in &search.dates {
        let column = match range.field {
            DateField::Created => "subscriptions.created_at",
            DateField::Modified => "subscriptions.updated_at",
            DateField::ValidFrom => "subscriptions.valid_from",
            DateField::EndsAt => "subscriptions.ends_at",
        };
        if let Some(after) = range.after {
            query = query.filter(sql::<Bool>(&format!("{column} >= ")).bind::<Timestamp, _>(after));
        }
        if let Some(before) = range.before {
            query = query.filter(sql::<Bool>(&format!("{column} <= ")).bind::<Timestamp, _>(before));
        }
    }

    // Text is compared byte by byte on both backends (PostgreSQL's default collation follows the
    // locale), and absent values come last, so pages are the same on SQLite and PostgreSQL.
    let collate = match conn {
        AnyConnection::Postgresql(_) => " COLLATE \"C\"",
        AnyConnection::Sqlite(_) => "",
    };
    // (expression, is text, may be NULL)
    let (column, text, nullable) = match search.sort {
        SortKey::ExternalId => ("subscriptions.external_id", true, false),
        SortKey::ResourceId => ("subscriptions.resource_id", true, false),
        SortKey::ResourceIdType => ("subscriptions.resource_id_type", true, false),
        SortKey::ResourceLabel => ("subscriptions.resource_label", true, false),
        SortKey::ValidFrom => ("subscriptions.valid_from", false, false),
        SortKey::EndsAt => ("subscriptions.ends_at", false, true),
        SortKey::Category => ("subscriptions.category", true, false),
        SortKey::AssignmentType => ("subscriptions.assignment_type", true, false),
        SortKey::Public => (
            "(SELECT MIN(p.public) FROM subscription_publics p WHERE p.subscription_id = subscriptions.id)",
            true,
            true,
        ),
        SortKey::ProjectCode => ("subscriptions.project_code", true, true),
    };
    let direction = if search.descending { "DESC" } else { "ASC" };
    // Only where NULLs can occur: an expression in ORDER BY keeps the index from giving the order.
    let nulls_last = if nullable { format!("{column} IS NULL, ") } else { String::new() };
    let order =
        format!("{nulls_last}{column}{} {direction}, subscriptions.id {direction}", if text { collate } else { "" });
    let ids: Vec<i64> = query.order(sql::<Text>(&order)).offset(search.offset).limit(search.limit).load(conn)?;
    load(conn, &ids)
}
