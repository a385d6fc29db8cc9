//! The `sesame` commands around the feed: generated exports pass the official XSDs and import
//! without rejections, exit codes, and a real import killed with SIGKILL while it applies.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::support::*;

/// `sesame` on this test's database, with no SESAME_* variable of the developer's leaking in.
fn sesame(db: &crate::common::TestDb, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command.current_dir(dir).args(args);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SESAME_")) {
        command.env_remove(key);
    }
    command.env("SESAME_DATABASE__URL", db.url.expose()).env("SESAME_LOG__LEVEL", "warn");
    command
}

fn run(db: &crate::common::TestDb, dir: &Path, args: &[&str]) -> Output {
    sesame(db, dir, args).output().expect("sesame runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Files of `dir` whose name contains `part`.
fn files_with(dir: &Path, part: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(part))
        .collect();
    found.sort();
    found
}

crate::storage_test! {
    fn generated_exports_pass_the_xsds_and_import_without_rejections(db) {
        let work = tempfile::tempdir().unwrap();
        let generate = |format: &str, out: &str| {
            let output = run(&db, work.path(), &["fixtures", "generate", "--ent", "Z9", "--establishments", "12",
                "--persons", "4000", "--stamp", "20261125_210000", "--format", format, "--out", out]);
            assert!(output.status.success(), "{}", text(&output));
            output
        };
        generate("xml", "xml");
        let second = files_with(&work.path().join("xml"), "_2D_");
        let first = files_with(&work.path().join("xml"), "_1D_");
        assert!(second.len() >= 5 && first.len() >= 5, "{second:?} {first:?}");
        xmllint(&repo_file("schema/gar-ent/GAR-ENT.xsd"), &second);
        xmllint(&repo_file("schema/gar-ent/GAR-ENT-1D.xsd"), &first);

        let summary = text(&generate("bundle", "bundles"));
        assert!(summary.contains("12 establishments"), "{summary}");
        let added = run(&db, work.path(), &["ent", "add", "--id", "Z9", "--name", "ENT synthétique"]);
        assert!(added.status.success(), "{}", text(&added));
        let import = run(&db, work.path(), &["feed", "import", "bundles", "--json"]);
        assert_eq!(import.status.code(), Some(0), "{}", text(&import));
        let stdout = String::from_utf8_lossy(&import.stdout);
        let reports: Vec<sesame::feed::Report> = serde_json::Deserializer::from_str(&stdout)
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(reports.len(), 2, "both degrees");
        for report in &reports {
            assert_eq!((report.status.as_str(), report.rejected, report.repeated), ("APPLIED", 0, 0), "{report}");
            assert_eq!(report.checksum, "verified");
        }
        let persons = count(&mut db.connect(), "SELECT COUNT(*) AS n FROM persons WHERE ent_id = 'Z9'");
        assert!((3_400..=4_600).contains(&persons), "{persons} persons");
        // The same export as loose XML files imports to the same directory, unchanged.
        let again = run(&db, work.path(), &["feed", "import", "xml", "--json"]);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        let stdout = String::from_utf8_lossy(&again.stdout);
        for report in serde_json::Deserializer::from_str(&stdout).into_iter::<sesame::feed::Report>() {
            let report = report.unwrap();
            assert!(report.counts.iter().all(|c| c.tally.created + c.tally.updated + c.tally.removed == 0), "{report}");
        }
    }
}

crate::storage_test! {
    fn exit_codes_say_applied_held_or_refused(db) {
        let work = tempfile::tempdir().unwrap();
        let demo = run(&db, work.path(), &["fixtures", "demo", "--out", "demo", "--stamp", "20261125_210000"]);
        assert!(demo.status.success(), "{}", text(&demo));
        for (id, name) in [("Z0", "ENT Démo Lycées & Collèges"), ("Z1", "ENT Démo Écoles")] {
            assert!(run(&db, work.path(), &["ent", "add", "--id", id, "--name", name]).status.success());
        }
        let duplicate = run(&db, work.path(), &["ent", "add", "--id", "Z0", "--name", "x"]);
        assert_eq!(duplicate.status.code(), Some(1));
        assert!(text(&duplicate).contains("already exists"));
        let import = run(&db, work.path(), &["feed", "import", "demo"]);
        assert_eq!(import.status.code(), Some(0), "{}", text(&import));
        let stdout = String::from_utf8_lossy(&import.stdout);
        assert_eq!(stdout.matches(": APPLIED").count(), 2, "{stdout}");
        assert!(text(&import).contains("applying"), "phases are printed");

        // Half of a school gone: held (3), then confirmed by id (0).
        let dir = &demo_directories()[0];
        let pupils = pupils_of(dir, "0990003R");
        let gone: Vec<&str> = pupils.iter().map(String::as_str).collect();
        let truncated = work.path().join("truncated");
        let mut name = export_name("Z0", sesame::domain::directory::Degree::Second);
        name.stamp = "20261126_210000".into();
        let mut writer = sesame::feed::writer::ExportWriter::bundle(&truncated, name).unwrap();
        writer.write(&without_persons(dir, &gone).of_degree(sesame::domain::directory::Degree::Second)).unwrap();
        writer.finish().unwrap();
        let held = run(&db, work.path(), &["feed", "import", "truncated"]);
        assert_eq!(held.status.code(), Some(3), "{}", text(&held));
        assert!(text(&held).contains("sesame feed confirm 3"), "{}", text(&held));
        let report = run(&db, work.path(), &["feed", "report", "3", "--xml"]);
        assert!(String::from_utf8_lossy(&report.stdout).contains("status=\"HELD\""));
        let confirmed = run(&db, work.path(), &["feed", "confirm", "3"]);
        assert_eq!(confirmed.status.code(), Some(0), "{}", text(&confirmed));
        assert_eq!(run(&db, work.path(), &["feed", "confirm", "3"]).status.code(), Some(1));

        // A wrong checksum: refused (1).
        let md5 = files_with(&truncated, ".md5").remove(0);
        std::fs::write(&md5, "ffffffffffffffffffffffffffffffff").unwrap();
        let refused = run(&db, work.path(), &["feed", "import", "truncated"]);
        assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
        assert!(text(&refused).contains("REJECTED"));
        let list = run(&db, work.path(), &["feed", "list", "--ent", "Z0"]);
        assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 3);
    }
}

/// Size of the export the kill test interrupts: big enough that applying takes a while.
fn kill_test_persons() -> String {
    std::env::var("SESAME_TEST_KILL_PERSONS").unwrap_or_else(|_| "3000".into())
}

crate::storage_test! {
    fn an_import_killed_while_applying_leaves_the_previous_directory(db) {
        let work = tempfile::tempdir().unwrap();
        let persons = kill_test_persons();
        for (seed, out) in [("1", "before"), ("2", "after")] {
            let output = run(&db, work.path(), &["fixtures", "generate", "--ent", "Z9", "--establishments", "6",
                "--persons", &persons, "--seed", seed, "--stamp", "20261125_210000", "--out", out]);
            assert!(output.status.success(), "{}", text(&output));
        }
        assert!(run(&db, work.path(), &["ent", "add", "--id", "Z9", "--name", "ENT"]).status.success());
        let first = run(&db, work.path(), &["feed", "import", "before"]);
        assert_eq!(first.status.code(), Some(0), "{}", text(&first));
        let previous = snapshot(&mut db.connect());

        // The next export changes every person's names: applying it rewrites the whole directory.
        // The second-degree bundle is the larger one, so the longer to apply.
        let bundle = files_with(&work.path().join("after"), "_2D.tar.gz").remove(0);
        let bundle = bundle.to_str().unwrap();
        let mut child = sesame(&db, work.path(), &["feed", "import", bundle, "--accept-large-deletion"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = Vec::new();
        for line in stderr.lines() {
            let line = line.unwrap();
            let applying = line.ends_with(": applying");
            seen.push(line);
            if applying {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
        let status = child.wait().unwrap();
        assert!(seen.iter().any(|l| l.ends_with(": applying")), "the import never reached the apply: {seen:?}");
        assert!(!status.success(), "killed before it finished: {status:?}");

        assert_eq!(snapshot(&mut db.connect()), previous, "the previous directory is intact");
        let rerun = run(&db, work.path(), &["feed", "import", "after", "--accept-large-deletion", "--json"]);
        assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));
        assert_ne!(snapshot(&mut db.connect()), previous);
        let statuses = statuses(&mut db.connect());
        // Before: 1D and 2D; the killed one, closed as interrupted; the re-run's two.
        assert_eq!(statuses.iter().filter(|s| *s == "APPLIED").count(), 4, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| *s == "REJECTED").count(), 1, "{statuses:?}");
    }
}
