//! Per-publisher release report over a period: releases counted by school, contract version and
//! attribute set, each set checked against the contract it was sent under, so the report shows
//! that nothing beyond an approved contract was sent (or exactly what was).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::table::Table;
use super::{Document, ExportFile, ExportKind, Period, header, iso, json_list, sheet, stamp};
use crate::audit::error::AuditError;
use crate::audit::traces::{ContractRef, Trace};
use crate::domain::audit::AuditKind;
use crate::store::audit::PeriodFilter;
use crate::store::reports::{self, ContractRecord};
use crate::store::{AnyConnection, audit, read_snapshot};

const BATCH: i64 = 10_000;

/// How a group of releases compares with its contract.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Conformity {
    Within,
    /// Attribute names sent that the contract does not list.
    Beyond(Vec<String>),
    /// No contract of this publisher with that id and version.
    UnknownContract,
    /// The contract was not approved yet when the data was sent.
    NotApproved,
}

impl Conformity {
    fn code(&self) -> &'static str {
        match self {
            Conformity::Within => "within-contract",
            Conformity::Beyond(_) => "beyond-contract",
            Conformity::UnknownContract => "unknown-contract",
            Conformity::NotApproved => "contract-not-approved",
        }
    }
}

/// Releases grouped by what the report counts them by.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Group {
    uai: Option<String>,
    contract: Option<ContractRef>,
    attributes: Vec<String>,
    conformity: Conformity,
}

#[derive(Clone, Copy, Debug)]
struct Tally {
    count: u64,
    first: NaiveDateTime,
    last: NaiveDateTime,
}

/// Builds the report for `publisher` over `period`.
pub fn build(
    conn: &mut AnyConnection,
    publisher: &str,
    period: Period,
    now: NaiveDateTime,
) -> Result<Document, AuditError> {
    let (name, contracts, groups, turnaways) = read_snapshot(conn, |conn| {
        let name = reports::publisher_names(conn, [publisher])?
            .remove(publisher)
            .ok_or_else(|| AuditError::UnknownPublisher(publisher.to_owned()))?;
        let contracts = reports::contracts(conn, Some(publisher))?;
        let (groups, turnaways) = tally(conn, publisher, period, &contracts)?;
        Ok::<_, AuditError>((name, contracts, groups, turnaways))
    })?;

    let releases: u64 = groups.values().map(|t| t.count).sum();
    let count_of =
        |code: &str| -> u64 { groups.iter().filter(|(g, _)| g.conformity.code() == code).map(|(_, t)| t.count).sum() };
    let within = count_of("within-contract");
    let conclusion = if within == releases {
        "Aucune donnée n'a été transmise au-delà d'un contrat approuvé. / Nothing was sent beyond an approved contract."
    } else {
        "Des transmissions dépassent un contrat approuvé : voir les lignes non conformes. / Some releases went beyond an \
         approved contract: see the rows not within contract."
    };
    let mut document =
        header(ExportKind::PublisherReleases, "Rapport des transmissions à un éditeur / Publisher release report", now);
    document["publisher"] = json!(publisher);
    document["publisherName"] = json!(name);
    document["period"] = period.json();
    let json = json!({
        "document": document,
        "summary": {
            "releases": releases,
            "withinContract": within,
            "beyondContract": count_of("beyond-contract"),
            "unknownContract": count_of("unknown-contract"),
            "contractNotApproved": count_of("contract-not-approved"),
            "turnaways": turnaways,
            "schools": groups.keys().filter_map(|g| g.uai.as_deref()).collect::<BTreeSet<_>>().len(),
            "conclusion": conclusion,
        },
        "contracts": contracts.iter().map(contract_json).collect::<Vec<_>>(),
        "releases": groups.iter().map(|(group, tally)| json!({
            "uai": group.uai,
            "contract": group.contract,
            "attributes": group.attributes,
            "count": tally.count,
            "firstAt": iso(tally.first),
            "lastAt": iso(tally.last),
            "conformity": group.conformity.code(),
            "beyondContract": match &group.conformity { Conformity::Beyond(extra) => extra.clone(), _ => Vec::new() },
        })).collect::<Vec<_>>(),
    });

    let mut table = Table::new(&[
        "UAI",
        "Contrat / Contract",
        "Version",
        "Attributs / Attributes",
        "Transmissions / Releases",
        "Première (UTC) / First (UTC)",
        "Dernière (UTC) / Last (UTC)",
        "Conformité / Conformity",
        "Hors contrat / Beyond contract",
    ]);
    for (group, tally) in &groups {
        let beyond = match &group.conformity {
            Conformity::Beyond(extra) => extra.join(", "),
            _ => String::new(),
        };
        table.row([
            group.uai.clone().unwrap_or_default(),
            group.contract.map(|c| c.id.to_string()).unwrap_or_default(),
            group.contract.map(|c| c.version.to_string()).unwrap_or_default(),
            group.attributes.join(", "),
            tally.count.to_string(),
            sheet(tally.first),
            sheet(tally.last),
            group.conformity.code().to_owned(),
            beyond,
        ]);
    }
    let stem = format!("publisher-releases-{publisher}-{}-{}-{}", period.from, period.to, stamp(now));
    Ok(Document {
        kind: ExportKind::PublisherReleases,
        files: vec![ExportFile::json(&stem, &json), ExportFile::csv(&stem, table.finish())],
        about: json!({ "publisher": publisher, "period": period.json() }),
        ent_id: None,
        uai: None,
        subject: None,
    })
}

type Tallies = BTreeMap<Group, Tally>;

/// Reads the period's release and turnaway events of the publisher, page by page.
fn tally(
    conn: &mut AnyConnection,
    publisher: &str,
    period: Period,
    contracts: &[ContractRecord],
) -> Result<(Tallies, u64), AuditError> {
    let by_ref: BTreeMap<ContractRef, &ContractRecord> =
        contracts.iter().map(|c| (ContractRef { id: c.id, version: i64::from(c.version) }, c)).collect();
    let kinds = [AuditKind::Release.code(), AuditKind::Turnaway.code()];
    // serde_json writes `"publisher":"<id>"` exactly so: a cheap pre-filter, confirmed below.
    let needle = serde_json::to_string(&json!({ "publisher": publisher })).expect("serializes");
    let needle = needle.trim_start_matches('{').trim_end_matches('}');
    let filter = PeriodFilter {
        from: Some(period.start()),
        until: Some(period.end()),
        kinds: &kinds,
        uai: None,
        details_contain: Some(needle),
    };
    let (mut groups, mut turnaways) = (Tallies::new(), 0u64);
    let mut after = 0;
    loop {
        let page = audit::events_matching(conn, &filter, after, BATCH)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for trace in page.iter().filter_map(Trace::parse).filter(|t| t.publisher.as_deref() == Some(publisher)) {
            if !trace.released {
                turnaways += 1;
                continue;
            }
            let conformity = conformity(&trace, &by_ref);
            let group = Group { uai: trace.uai, contract: trace.contract, attributes: trace.attributes, conformity };
            let tally = groups.entry(group).or_insert(Tally { count: 0, first: trace.at, last: trace.at });
            tally.count += 1;
            tally.first = tally.first.min(trace.at);
            tally.last = tally.last.max(trace.at);
        }
    }
    Ok((groups, turnaways))
}

fn conformity(trace: &Trace, contracts: &BTreeMap<ContractRef, &ContractRecord>) -> Conformity {
    let Some(contract) = trace.contract.and_then(|c| contracts.get(&c)) else {
        return Conformity::UnknownContract;
    };
    if contract.approved_at.is_none_or(|approved| approved > trace.at) || contract.status == "DRAFT" {
        return Conformity::NotApproved;
    }
    let allowed: BTreeSet<String> = serde_json::from_str(&contract.attributes).unwrap_or_default();
    let beyond: Vec<String> = trace.attributes.iter().filter(|a| !allowed.contains(*a)).cloned().collect();
    if beyond.is_empty() { Conformity::Within } else { Conformity::Beyond(beyond) }
}

pub(super) fn contract_json(c: &ContractRecord) -> Value {
    json!({
        "id": c.id,
        "version": c.version,
        "publisher": c.publisher_id,
        "serviceProvider": c.service_provider,
        "status": c.status,
        "attributes": json_list(&c.attributes),
        "purposes": json_list(&c.purposes),
        "dataCategories": json_list(&c.data_categories),
        "retentionDays": c.retention_days,
        "approvedBy": c.approved_by,
        "approvedAt": c.approved_at.map(iso),
    })
}
