//! The `sesame` binary: exit codes, configuration errors, backend choice, certificates.

use std::process::{Command, Output};

use crate::common::seed_partners;

fn sesame(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command.current_dir(dir).args(args);
    // Only the variables a test sets: the developer's own SESAME_* must not leak in.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SESAME_")) {
        command.env_remove(key);
    }
    command.envs(env.iter().copied()).output().expect("sesame runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_environment_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = sesame(dir.path(), &["migrate"], &[("SESAME_HTTP__PUBLIC_ADDR", "nowhere")]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("`http.public_addr`"), "{}", stderr(&output));
}

#[test]
fn bad_file_value_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sesame.toml"), "[database]\npool_size = -3\n").unwrap();
    let output = sesame(dir.path(), &["--config", "sesame.toml", "serve"], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("`database.pool_size`"), "{}", stderr(&output));
}

#[test]
fn misspelt_variable_is_not_ignored() {
    // SESAME_DATABASE_URL (one underscore) would otherwise silently leave Sesame on SQLite.
    let dir = tempfile::tempdir().unwrap();
    let output = sesame(dir.path(), &["migrate"], &[("SESAME_DATABASE_URL", "postgres://x/y")]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("database_url"), "{}", stderr(&output));
}

#[test]
fn unreachable_postgres_fails_without_falling_back_to_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens there.
    let url = "postgres://sesame:hunter2@127.0.0.1:1/sesame";
    for command in ["migrate", "serve"] {
        let output = sesame(dir.path(), &[command], &[("SESAME_DATABASE__URL", url)]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert!(message.contains("cannot connect to postgres://sesame:***@127.0.0.1:1/sesame"), "{message}");
        assert!(!message.contains("hunter2"), "the password must not be printed: {message}");
    }
    let sqlite_files: Vec<_> =
        walk(dir.path()).into_iter().filter(|p| p.to_string_lossy().contains("sqlite")).collect();
    assert!(sqlite_files.is_empty(), "no SQLite database may be created: {sqlite_files:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["demo", "--help"],
        &["certs", "--help"],
        &["certs", "issue-client", "--help"],
        &["audit", "--help"],
        &["audit", "verify", "--help"],
        &["audit", "export", "data-subject", "--help"],
        &["audit", "verify-export", "--help"],
        &["audit", "purge", "--help"],
        &["audit", "auditor", "add", "--help"],
        &["person", "erase", "--help"],
        &["ent", "add", "--help"],
        &["feed", "--help"],
        &["feed", "import", "--help"],
        &["feed", "confirm", "--help"],
        &["feed", "parse", "--help"],
        &["fixtures", "generate", "--help"],
        &["fixtures", "demo", "--help"],
    ] {
        let output = sesame(dir.path(), args, &[]);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: sesame"), "{args:?}");
    }
}

crate::storage_test! {
    fn issue_client_registers_for_a_known_owner_only(db) {
        let dir = tempfile::tempdir().unwrap();
        let url = db.url.expose();
        let env = [("SESAME_DATABASE__URL", url.as_str())];

        let unknown = sesame(dir.path(), &["certs", "issue-client", "--ent", "Z0"], &env);
        assert_eq!(unknown.status.code(), Some(1));
        assert!(stderr(&unknown).contains("unknown ENT project `Z0`"), "{}", stderr(&unknown));

        seed_partners(&mut db.connect());
        let issued = sesame(dir.path(), &["certs", "issue-client", "--ent", "Z0", "--out", "certs"], &env);
        assert!(issued.status.success(), "{}", stderr(&issued));
        let pem = std::fs::read_to_string(dir.path().join("certs/ent-Z0.pem")).unwrap();
        let info = sesame::pki::CertificateInfo::from_pem(&pem).unwrap();
        let caller = sesame::store::partners::find_caller(
            &mut db.connect(),
            sesame::store::partners::CertificateKey::Fingerprint(&info.fingerprint),
        )
        .unwrap()
        .expect("registered");
        assert_eq!(caller.id, "Z0");

        let both = sesame(dir.path(), &["certs", "issue-client", "--ent", "Z0", "--distributor", "x"], &env);
        assert_eq!(both.status.code(), Some(2), "clap refuses two owners");
    }
}
