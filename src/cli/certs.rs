//! `sesame certs`: development client certificates from the local CA.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::http;
use crate::pki::{LocalAuthority, TlsPaths};
use crate::store;
use crate::store::partners::{self, CallerKind};

#[derive(Subcommand)]
pub(super) enum CertsCommand {
    /// Issue a client certificate for an ENT project or a distributor, and register it.
    IssueClient(IssueClient),
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("owner").required(true).args(["ent", "distributor"])))]
pub(super) struct IssueClient {
    /// ENT project id (idENT), e.g. Z0.
    #[arg(long)]
    ent: Option<String>,
    /// Distributor id (SIREN_ISNI).
    #[arg(long)]
    distributor: Option<String>,
    /// Folder for the certificate and key; default `<data_dir>/clients`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only write the files; do not allow the certificate on the mTLS listener.
    #[arg(long)]
    no_register: bool,
}

impl CertsCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        match self {
            CertsCommand::IssueClient(args) => issue_client(config, args),
        }
    }
}

fn issue_client(config: &Config, args: IssueClient) -> anyhow::Result<()> {
    let (kind, owner) = match (args.ent, args.distributor) {
        (Some(ent), None) => (CallerKind::Ent, ent),
        (None, Some(distributor)) => (CallerKind::Distributor, distributor),
        _ => unreachable!("clap requires exactly one owner"),
    };
    let out = args.out.unwrap_or_else(|| config.data_dir.join("clients"));
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
    let (cert_path, key_path) = issue_and_register(config, &mut conn, kind, &owner, &out, !args.no_register)?;
    println!("certificate: {}\nprivate key: {}", cert_path.display(), key_path.display());
    Ok(())
}

/// Issues a client certificate from the local CA into `out` and (optionally) registers it.
pub(super) fn issue_and_register(
    config: &Config,
    conn: &mut store::AnyConnection,
    kind: CallerKind,
    owner: &str,
    out: &Path,
    register: bool,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let known = match kind {
        CallerKind::Ent => partners::find_ent_project_name(conn, owner)?,
        CallerKind::Distributor => partners::find_distributor_name(conn, owner)?,
    };
    if register && known.is_none() {
        let what = if kind == CallerKind::Ent { "ENT project" } else { "distributor" };
        anyhow::bail!("unknown {what} `{owner}`: register it first");
    }
    let authority =
        LocalAuthority::load_or_create(&TlsPaths::in_data_dir(&config.data_dir), &http::server_names(config))?;
    let label = match kind {
        CallerKind::Ent => format!("ENT {owner}"),
        CallerKind::Distributor => format!("Distributor {owner}"),
    };
    let issued = authority.issue_client(&label)?;
    let stem = format!("{}-{}", if kind == CallerKind::Ent { "ent" } else { "distributor" }, owner);
    let (cert_path, key_path) = (out.join(format!("{stem}.pem")), out.join(format!("{stem}.key")));
    std::fs::create_dir_all(out)?;
    std::fs::write(&cert_path, &issued.cert_pem)?;
    write_private(&key_path, &issued.key_pem)?;
    if register {
        partners::register_certificate(conn, &issued.info, kind, owner)?;
    }
    Ok((cert_path, key_path))
}

pub(super) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
