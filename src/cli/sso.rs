//! `sesame ent idp` (and `ent add --metadata`, see `cli::ent`), `sesame publisher add` and `sesame contract approve|list`: registering
//! the SAML partners of sign-on and approving what each publisher receives.

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::domain::audit::Actor;
use crate::sso::contracts::{self, Approval, ContractTarget};
use crate::sso::registry::{self, MetadataSource, PublisherRegistration};
use crate::store::{self, AnyConnection, reports};

/// `sesame ent idp`.
#[derive(Args)]
pub(super) struct Idp {
    /// The ENT project id (idENT), e.g. Z0.
    #[arg(long)]
    id: String,
    /// The identity provider's metadata: a file, or an https:// URL (fetched now and refreshed
    /// every `saml.metadata_refresh_minutes`).
    #[arg(long)]
    metadata: String,
    /// Creates the ENT project with this name if it is not registered yet.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Subcommand)]
pub(super) enum PublisherCommand {
    /// Register a publisher and its SAML service provider (again: refresh it from new metadata).
    Add(PublisherAdd),
}

#[derive(Args)]
pub(super) struct PublisherAdd {
    /// idEditeur: SIREN_ISNI, 9 digits, `_`, 16 digits.
    #[arg(long)]
    id: String,
    /// The publisher's name.
    #[arg(long)]
    name: String,
    /// The service provider's metadata: a file, or an https:// URL (kept and refreshed).
    #[arg(long)]
    metadata: String,
    /// Resources (idRessource) of this publisher released to this service provider; without any,
    /// it serves every resource of the publisher that names no service provider.
    #[arg(long = "resource")]
    resources: Vec<String>,
    /// Sign only the Assertion, not the whole Response (one signature per launch; the
    /// GAR-compatible minimum most service providers accept).
    #[arg(long, conflicts_with = "sign_response")]
    assertion_only: bool,
    /// Sign the Response and the Assertion (the default for a new service provider).
    #[arg(long)]
    sign_response: bool,
}

#[derive(Subcommand)]
pub(super) enum ContractCommand {
    /// Approve a new version of a release contract; the version it replaces is retired.
    Approve(Approve),
    /// List release contracts: service provider, version, status, attributes, approver, date.
    List(ContractList),
}

#[derive(Args)]
pub(super) struct Approve {
    /// The service provider's entity ID.
    #[arg(long, required_unless_present = "resource", conflicts_with = "resource")]
    sp: Option<String>,
    /// A resource: the contract of the service provider it is released to.
    #[arg(long)]
    resource: Option<String>,
    /// Attributes released, comma-separated, among IDO UAI PRO NOM PRE CIV P_MEL DIV GRO P_MS4
    /// P_MAT P_MEF E_MS. IDO, UAI and PRO are always included.
    #[arg(long)]
    attributes: String,
    /// What the publisher processes the data for.
    #[arg(long)]
    purpose: String,
    /// The legal basis of the processing (e.g. "RGPD art. 6.1.e, mission d'intérêt public").
    #[arg(long)]
    legal_basis: String,
    /// Who approved it (the data-protection officer, the administrative manager…).
    #[arg(long)]
    approver: String,
    /// Days the publisher keeps the data.
    #[arg(long, default_value_t = 365)]
    retention_days: u32,
}

#[derive(Args)]
pub(super) struct ContractList {
    /// Only this service provider's contracts (entity ID).
    #[arg(long)]
    sp: Option<String>,
}

fn connect(config: &Config) -> anyhow::Result<AnyConnection> {
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
    Ok(conn)
}

impl Idp {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        let metadata = IdpMetadata::load(&self.metadata)?;
        let mut conn = connect(config)?;
        metadata.register(config, &mut conn, &self.id, self.name.as_deref())
    }
}

/// An identity provider's metadata, read (or fetched) before anything is written.
pub(super) struct IdpMetadata {
    source: MetadataSource,
    xml: String,
}

impl IdpMetadata {
    pub(super) fn load(argument: &str) -> anyhow::Result<Self> {
        let source = MetadataSource::parse(argument);
        let xml = source.load_blocking()?;
        Ok(Self { source, xml })
    }

    /// Registers it as ENT project `ent_id`'s identity provider and says what was registered.
    pub(super) fn register(
        &self,
        config: &Config,
        conn: &mut AnyConnection,
        ent_id: &str,
        new_ent_name: Option<&str>,
    ) -> anyhow::Result<()> {
        let url = self.source.url();
        let idp = registry::register_identity_provider(
            conn,
            ent_id,
            new_ent_name,
            &self.xml,
            url,
            Actor::operator(),
            Utc::now(),
        )?;
        println!("ENT {ent_id}: identity provider {} registered", idp.entity_id);
        println!("    single sign-on (HTTP-Redirect): {}", idp.sso_url);
        for certificate in &idp.certificates {
            println!("    signing certificate {}", certificate.fingerprint());
        }
        if let Some(url) = url {
            println!("    refreshed from {url} every {} minutes", config.saml.metadata_refresh_minutes);
        }
        Ok(())
    }
}

impl PublisherCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        let PublisherCommand::Add(args) = self;
        let source = MetadataSource::parse(&args.metadata);
        let xml = source.load_blocking()?;
        let mut conn = connect(config)?;
        let sign_response = match (args.assertion_only, args.sign_response) {
            (true, _) => Some(false),
            (_, true) => Some(true),
            _ => None,
        };
        let registration = PublisherRegistration {
            publisher_id: &args.id,
            name: &args.name,
            xml: &xml,
            url: source.url(),
            resources: &args.resources,
            sign_response,
        };
        let sp = registry::register_publisher(&mut conn, &registration, Actor::operator(), Utc::now())?;
        let metadata = &sp.metadata;
        let verb = if sp.created { "registered" } else { "updated" };
        println!("publisher {}: service provider {} {verb}", args.id, metadata.entity_id);
        println!("    assertion consumer service: {}", metadata.acs_url);
        println!("    signature: {}", metadata.signature_algorithm.code());
        let requested: Vec<&str> = metadata.requested_attributes.iter().map(|a| a.name.as_str()).collect();
        println!("    requested attributes: {}", if requested.is_empty() { "-".into() } else { requested.join(",") });
        if !args.resources.is_empty() {
            println!("    resources: {}", args.resources.join(", "));
        }
        println!(
            "nothing is released until a contract is approved: sesame contract approve --sp {} …",
            metadata.entity_id
        );
        Ok(())
    }
}

impl ContractCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        let mut conn = connect(config)?;
        match self {
            ContractCommand::Approve(args) => approve(&mut conn, args),
            ContractCommand::List(args) => list(&mut conn, args),
        }
    }
}

fn approve(conn: &mut AnyConnection, args: Approve) -> anyhow::Result<()> {
    let attributes = contracts::parse_attributes(&args.attributes).context("--attributes")?;
    let target = match (args.sp, args.resource) {
        (Some(sp), _) => ContractTarget::ServiceProvider(sp),
        (None, Some(resource)) => ContractTarget::Resource(resource),
        (None, None) => anyhow::bail!("give --sp or --resource"),
    };
    let approval = Approval {
        target,
        attributes,
        purpose: args.purpose,
        legal_basis: args.legal_basis,
        approver: args.approver,
        retention_days: args.retention_days,
    };
    let approved = contracts::approve(conn, &approval, Utc::now())?;
    let names: Vec<&str> = approved.attributes.iter().map(|a| a.code()).collect();
    println!(
        "contract version {} APPROVED for {}: {}",
        approved.contract.version,
        approved.service_provider.entity_id,
        names.join(",")
    );
    if let Some(retired) = approved.retired {
        println!("version {} RETIRED", retired.version);
    }
    Ok(())
}

fn list(conn: &mut AnyConnection, args: ContractList) -> anyhow::Result<()> {
    let contracts: Vec<_> = reports::contracts(conn, None)?
        .into_iter()
        .filter(|c| args.sp.as_ref().is_none_or(|sp| &c.service_provider == sp))
        .collect();
    if contracts.is_empty() {
        println!("no release contract: sesame contract approve --sp ENTITY_ID --attributes IDO,UAI,PRO …");
        return Ok(());
    }
    let rows: Vec<[String; 6]> = contracts
        .into_iter()
        .map(|c| {
            let attributes: Vec<String> = serde_json::from_str(&c.attributes).unwrap_or_default();
            [
                c.service_provider,
                c.version.to_string(),
                c.status,
                attributes.join(","),
                c.approved_by.unwrap_or_else(|| "-".into()),
                c.approved_at.map(|at| at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = ["SP", "VERSION", "STATUS", "ATTRIBUTES", "APPROVER", "DATE"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
    Ok(())
}
