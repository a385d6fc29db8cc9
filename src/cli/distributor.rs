//! `sesame distributor`: register commercial distributors and the certificates they call with.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::domain::SirenIsni;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::store::partners::{self, CallerKind};
use crate::store::{self, audit, write_transaction};

#[derive(Subcommand)]
pub(super) enum DistributorCommand {
    /// Register a distributor (or add a certificate to a registered one) for the abonnement web service.
    Add(Add),
    /// List registered distributors and their certificates.
    List,
}

#[derive(Args)]
pub(super) struct Add {
    /// idDistributeurCom: SIREN_ISNI, 9 digits, `_`, 16 digits (ISNI all zeros when none).
    #[arg(long)]
    id: String,
    /// The distributor's name.
    #[arg(long)]
    name: String,
    /// The client certificate (PEM) the distributor presents on the mutual-TLS listener.
    #[arg(long)]
    cert: PathBuf,
}

impl DistributorCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        let mut conn = config.database_url().connect()?;
        store::run_migrations(&mut conn)?;
        match self {
            DistributorCommand::Add(args) => add(&mut conn, args),
            DistributorCommand::List => list(&mut conn),
        }
    }
}

fn add(conn: &mut store::AnyConnection, args: Add) -> anyhow::Result<()> {
    let id = SirenIsni::parse(&args.id)?;
    let cert = super::read_certificate(&args.cert)?;
    let existed = write_transaction(conn, |conn| -> anyhow::Result<bool> {
        let existing = partners::find_distributor_name(conn, id.as_str())?;
        if existing.is_none() {
            partners::insert_distributor(conn, id.as_str(), &args.name)?;
        }
        partners::register_certificate(conn, &cert, CallerKind::Distributor, id.as_str())
            .context("the certificate could not be registered (already registered?)")?;
        let event = AuditEvent::new(
            AuditKind::PartnerChanged,
            Actor::operator(),
            json!({
                "distributor": id.as_str(),
                "action": if existing.is_some() { "certificate added" } else { "registered" },
                "fingerprint": cert.fingerprint,
            }),
        );
        audit::append(conn, &event)?;
        Ok(existing.is_some())
    })?;
    if existed {
        println!("distributor {id} was already registered: certificate added");
    } else {
        println!("distributor {id} ({}) registered", args.name);
    }
    println!("certificate {} ({}), valid until {}", cert.fingerprint, cert.subject, cert.not_after);
    Ok(())
}

fn list(conn: &mut store::AnyConnection) -> anyhow::Result<()> {
    let distributors = partners::list_distributors(conn)?;
    if distributors.is_empty() {
        println!("no distributor registered: sesame distributor add --id SIREN_ISNI --name NAME --cert PEM");
    }
    for (id, name, certificates) in distributors {
        println!("{id}  {name}");
        for cert in certificates {
            let state = if cert.revoked { "revoked" } else { "valid until" };
            println!("    {}  {}  {state} {}", cert.fingerprint, cert.subject, cert.not_after);
        }
    }
    Ok(())
}
