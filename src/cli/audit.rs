//! `sesame audit`: verify the audit log, produce and check signed exports, apply retention,
//! register auditors.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::audit::export::{self, Document, Period};
use crate::audit::jobs::{self, RETENTION_RUN_LEASE, RETENTION_RUN_TTL};
use crate::audit::retention::{EventsPurge, Purger};
use crate::audit::signature::SignatureFile;
use crate::audit::signing::{Signer, TrustedKey, TrustedKeys};
use crate::audit::{AuditError, checkpoint, verify};
use crate::config::Config;
use crate::domain::audit::Actor;
use crate::domain::pseudonym::Pseudonyms;
use crate::http;
use crate::pki::{KeyMaterial, KeyPaths, LocalAuthority, TlsPaths};
use crate::store::{self, AnyConnection, audit, auditors, job_leases};

#[derive(Subcommand)]
pub(super) enum AuditCommand {
    /// Check the audit log: checkpoint signatures, the chain, the events kept by purges. Exits 1
    /// naming the first bad event; on success signs a checkpoint of the last event.
    Verify {
        /// Do not sign a checkpoint at the end.
        #[arg(long)]
        no_checkpoint: bool,
    },
    /// Produce a signed export (each file gets a FILE.sig beside it).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Check an export file against its detached signature. Exits 0 if valid, 1 otherwise.
    VerifyExport(VerifyExport),
    /// Apply retention now: purge what the [retention] settings say is due.
    Purge {
        /// Count what would be purged, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Auditors allowed on the mTLS listener's /v1/audit routes.
    #[command(subcommand)]
    Auditor(AuditorCommand),
}

#[derive(Subcommand)]
pub(super) enum ExportCommand {
    /// Everything Sesame holds about one person (JSON and CSV).
    DataSubject {
        /// ENT project (idENT), e.g. Z0.
        #[arg(long)]
        ent: String,
        /// The person's GARPersonIdentifiant.
        #[arg(long)]
        gar_id: String,
        #[command(flatten)]
        out: OutDir,
    },
    /// Releases to one publisher over a period, checked against its contracts.
    PublisherReleases {
        /// Publisher id (SIREN_ISNI).
        #[arg(long)]
        publisher: String,
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        out: OutDir,
    },
    /// Processing-register extract generated from the release contracts.
    ProcessingRegister {
        #[command(flatten)]
        out: OutDir,
    },
    /// One school's activity over a period.
    EstablishmentActivity {
        /// The school's UAI.
        #[arg(long)]
        uai: String,
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        out: OutDir,
    },
}

#[derive(Args)]
pub(super) struct OutDir {
    /// Folder the files are written to.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

#[derive(Args)]
pub(super) struct PeriodArgs {
    /// First day, YYYY-MM-DD (UTC).
    #[arg(long)]
    from: String,
    /// Last day, included, YYYY-MM-DD (UTC).
    #[arg(long)]
    to: String,
}

#[derive(Args)]
pub(super) struct VerifyExport {
    /// The exported file.
    file: PathBuf,
    /// Its signature file; default FILE.sig.
    #[arg(long)]
    signature: Option<PathBuf>,
    /// Trust only this certificate (PEM), e.g. Sesame's signing certificate handed to a third
    /// party; default the signing certificates of this Sesame's data folder.
    #[arg(long)]
    cert: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(super) enum AuditorCommand {
    /// Register an auditor's client certificate (or issue one from the local CA).
    Add {
        /// The auditor's name, e.g. dpo-academie.
        #[arg(long)]
        name: String,
        /// Their certificate (PEM); without it one is issued from the local CA.
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Folder for an issued certificate and key; default `<data_dir>/clients`.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Revoke every certificate of an auditor.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

impl AuditCommand {
    /// Failures (a tampered log, an export that does not verify) are errors: exit 1.
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        match self {
            AuditCommand::Verify { no_checkpoint } => verify_log(config, !no_checkpoint),
            AuditCommand::Export(command) => command.run(config),
            AuditCommand::VerifyExport(args) => verify_export(config, &args),
            AuditCommand::Purge { dry_run } => purge(config, dry_run),
            AuditCommand::Auditor(command) => command.run(config),
        }
    }
}

/// A migrated connection to the configured database.
pub(super) fn connect(config: &Config) -> anyhow::Result<AnyConnection> {
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
    Ok(conn)
}

/// A progress bar over the audit log's events, drawn on stderr when it is a terminal.
fn events_progress(conn: &mut AnyConnection, message: &'static str) -> anyhow::Result<ProgressBar> {
    let total = u64::try_from(audit::count(conn)?).unwrap_or(0);
    let bar = ProgressBar::new(total).with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {human_pos}/{human_len} events ({per_sec}, {eta} left)")
            .expect("valid template"),
    );
    Ok(bar)
}

fn verify_log(config: &Config, sign: bool) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let trusted = TrustedKeys::load(config)?;
    let bar = events_progress(&mut conn, "verifying")?;
    let outcome = verify::verify(&mut conn, &trusted, |_| {}, &|done| bar.set_position(done))?;
    bar.finish_and_clear();
    match outcome {
        Ok(verified) => {
            let from = match verified.boundary {
                Some(seq) => format!("the chain from the purge boundary at event {seq}"),
                None => "the chain from its first event".to_owned(),
            };
            println!(
                "audit log intact: {} event(s) checked ({from}), {} checkpoint signature(s) valid",
                verified.events, verified.checkpoints
            );
            if sign {
                // Verifying needs only certificates; signing needs the nodes' key.
                match signer(config) {
                    Ok(signer) => {
                        if let Some(signed) = checkpoint::checkpoint_head(&mut conn, &signer, Utc::now().naive_utc())? {
                            println!("signed checkpoint #{} at event {}", signed.id, signed.checkpoint.last_seq);
                        }
                    }
                    Err(e) => println!("no checkpoint signed: {e}"),
                }
            }
            Ok(())
        }
        Err(tampering) => {
            let mut message = format!("the audit log was tampered with: {tampering}");
            if let Some(seq) = tampering.first_bad_event() {
                message.push_str(&format!("\nfirst bad event: {seq}"));
            }
            Err(anyhow::anyhow!(message))
        }
    }
}

impl ExportCommand {
    fn run(self, config: &Config) -> anyhow::Result<()> {
        let mut conn = connect(config)?;
        let now = Utc::now().naive_utc();
        let (document, out): (Document, OutDir) = match self {
            ExportCommand::DataSubject { ent, gar_id, out } => {
                let pseudonyms = pseudonyms(config)?;
                (export::data_subject::build(&mut conn, &pseudonyms, config, &ent, &gar_id, now)?, out)
            }
            ExportCommand::PublisherReleases { publisher, period, out } => {
                (export::publisher::build(&mut conn, &publisher, period.parse()?, now)?, out)
            }
            ExportCommand::ProcessingRegister { out } => {
                (export::register::build(&mut conn, &config.retention, now)?, out)
            }
            ExportCommand::EstablishmentActivity { uai, period, out } => {
                (export::establishment::build(&mut conn, &uai, period.parse()?, now)?, out)
            }
        };
        let signer = signer(config)?;
        let signed = export::seal(&mut conn, &signer, document, &Actor::operator())?;
        for path in export::write(&signed, &out.out)? {
            println!("{}", path.display());
        }
        Ok(())
    }
}

impl PeriodArgs {
    fn parse(&self) -> anyhow::Result<Period> {
        Period::parse(&self.from, &self.to).map_err(|e| anyhow::anyhow!("--from/--to: {e}"))
    }
}

/// The nodes' key material. Never generated here: keys from a wrong data folder would sign with
/// a key nobody trusts and, worse, derive other pseudonyms, so a person's events would not be found.
pub(super) fn existing_keys(config: &Config) -> anyhow::Result<KeyMaterial> {
    let paths = KeyPaths::in_data_dir(&config.data_dir);
    for path in [&paths.signing_key, &paths.signing_cert, &paths.pseudonym_secret] {
        anyhow::ensure!(
            path.is_file(),
            "no key material at {}: run this command with the data folder (data_dir) of the Sesame nodes",
            path.display()
        );
    }
    Ok(KeyMaterial::load_or_create(&paths)?)
}

fn pseudonyms(config: &Config) -> anyhow::Result<Pseudonyms> {
    Ok(Pseudonyms::new(&existing_keys(config)?.pseudonym_secret))
}

fn signer(config: &Config) -> anyhow::Result<Signer> {
    Ok(Signer::new(&existing_keys(config)?)?)
}

fn verify_export(config: &Config, args: &VerifyExport) -> anyhow::Result<()> {
    let sig_path = args.signature.clone().unwrap_or_else(|| sibling_sig(&args.file));
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let text = std::fs::read_to_string(&sig_path).with_context(|| format!("cannot read {}", sig_path.display()))?;
    let trusted = match &args.cert {
        Some(cert) => {
            let mut trusted = TrustedKeys::default();
            trusted.add_file(cert)?;
            trusted
        }
        None => TrustedKeys::load(config)?,
    };
    let checked = SignatureFile::parse(&text).and_then(|signature| signature.check(&bytes, &trusted).cloned());
    match checked {
        Ok(TrustedKey { key_id, subject, .. }) => {
            println!("valid: {} was signed by Sesame key {key_id} ({subject})", args.file.display());
            Ok(())
        }
        Err(problem) => Err(anyhow::anyhow!("{}: {problem}", args.file.display())),
    }
}

fn sibling_sig(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

fn purge(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    let mut conn = connect(config)?;
    let signer = signer(config)?;
    let trusted = TrustedKeys::load(config)?;
    let pseudonyms = pseudonyms(config)?;
    let holder = jobs::holder();
    let now = Utc::now().naive_utc();
    if !dry_run && !job_leases::try_acquire(&mut conn, RETENTION_RUN_LEASE, &holder, now, now + RETENTION_RUN_TTL)? {
        return Err(AuditError::Busy.into());
    }
    let purger = Purger {
        policy: config.retention.policy(),
        signer: &signer,
        trusted: &trusted,
        pseudonyms: &pseudonyms,
        actor: Actor::operator(),
    };
    let bar = events_progress(&mut conn, "verifying before purging")?;
    let report = purger.run(&mut conn, now, dry_run, &|done| bar.set_position(done));
    bar.finish_and_clear();
    if !dry_run {
        job_leases::release(&mut conn, RETENTION_RUN_LEASE, &holder)?;
    }
    let report = report?;
    let verb = if dry_run { "would purge" } else { "purged" };
    match &report.audit_events {
        EventsPurge::Purged { deleted, boundary } => {
            println!("{verb} {} release trace(s) and {} other audit event(s)", deleted.release_traces, deleted.other);
            if let Some(seq) = boundary {
                println!("  the audit chain now starts from a signed boundary at event {seq}");
            }
        }
        EventsPurge::Kept { reason } => println!("kept every audit event: the log does not verify ({reason})"),
    }
    let (p, h, e) = (&report.persons, &report.assignment_history, &report.expired);
    println!(
        "{verb} {} person(s) removed from the directory ({} seat(s) freed, {} membership row(s))",
        p.persons, p.seats_freed, p.memberships
    );
    println!(
        "{verb} {} assignment history row(s), {} released seat(s), {} revoked assignment(s) of past school years",
        h.history, h.released_seats, h.revoked_assignments
    );
    println!(
        "{verb} {} expired sign-on request(s), {} replay-cache entr(ies), {} session(s)",
        e.saml_requests,
        e.replay_cache,
        e.sessions + p.sessions
    );
    if let Some(seq) = report.event {
        println!("recorded as audit event {seq}");
    }
    match report.tampering() {
        Some(_) => Err(anyhow::anyhow!("the audit log does not verify: run `sesame audit verify`")),
        None => Ok(()),
    }
}

impl AuditorCommand {
    fn run(self, config: &Config) -> anyhow::Result<()> {
        let mut conn = connect(config)?;
        match self {
            AuditorCommand::Add { name, cert, out } => {
                anyhow::ensure!(
                    !name.is_empty()
                        && name.len() <= 64
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                    "--name: 1 to 64 letters, digits, dots, dashes or underscores"
                );
                let info = match cert {
                    Some(path) => super::read_certificate(&path)?,
                    None => {
                        let authority = LocalAuthority::load_or_create(
                            &TlsPaths::in_data_dir(&config.data_dir),
                            &http::server_names(config),
                        )?;
                        let issued = authority.issue_client(&format!("Auditor {name}"))?;
                        let dir = out.unwrap_or_else(|| config.data_dir.join("clients"));
                        let (cert_path, key_path) =
                            (dir.join(format!("auditor-{name}.pem")), dir.join(format!("auditor-{name}.key")));
                        std::fs::create_dir_all(&dir)?;
                        std::fs::write(&cert_path, &issued.cert_pem)?;
                        super::certs::write_private(&key_path, &issued.key_pem)?;
                        println!("certificate: {}\nprivate key: {}", cert_path.display(), key_path.display());
                        issued.info
                    }
                };
                auditors::register_certificate(&mut conn, &name, &info)?;
                println!("auditor {name} may call /v1/audit with the certificate {}", info.fingerprint);
            }
            AuditorCommand::Revoke { name } => {
                let revoked = auditors::revoke(&mut conn, &name)?;
                anyhow::ensure!(revoked > 0, "auditor {name} has no live certificate");
                println!("revoked {revoked} certificate(s) of auditor {name}");
            }
        }
        Ok(())
    }
}
