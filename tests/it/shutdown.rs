//! SIGTERM lets in-flight requests finish; logs carry no identifiers from URLs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

crate::storage_test! {
    async fn sigterm_lets_in_flight_requests_finish(db) {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .arg("serve")
            .current_dir(dir.path())
            .env("SESAME_DATABASE__URL", db.url.expose())
            .env("SESAME_HTTP__PUBLIC_ADDR", "127.0.0.1:0")
            .env("SESAME_HTTP__MTLS_ADDR", "127.0.0.1:0")
            .env("SESAME_DEBUG__WAIT_ROUTE", "true")
            .env("SESAME_LOG__FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Kept open until the end: the node prints more lines after the first.
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let public = stdout
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("public listener: ").map(str::to_owned))
            .expect("the listener address is printed");

        let http = reqwest::Client::new();
        // An identifier in an unmatched path must not reach the logs.
        let probe = http.get(format!("{public}/ressources/Z0/0561641E/pupil-secret-42")).send().await.unwrap();
        assert_eq!(probe.status(), 404);

        let started = Instant::now();
        let slow = actix_web::rt::spawn(http.get(format!("{public}/_debug/wait?ms=1500")).send());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pid = child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());

        let response = slow.await.unwrap().expect("the in-flight request is answered");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "waited 1500 ms");
        assert!(started.elapsed() >= Duration::from_millis(1500));

        let output = child.wait_with_output().unwrap();
        drop(stdout);
        assert!(output.status.success(), "exit after SIGTERM: {:?}", output.status);
        assert!(http.get(format!("{public}/healthz")).send().await.is_err(), "no longer listening");

        let logs = String::from_utf8_lossy(&output.stderr);
        assert!(!logs.contains("pupil-secret-42"), "{logs}");
        let requests: Vec<serde_json::Value> = logs
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
            .filter(|event: &serde_json::Value| event["message"] == "request handled")
            .collect();
        assert!(requests.iter().any(|e| e["route"] == "UNMATCHED" && e["status"] == 404), "{logs}");
        assert!(requests.iter().any(|e| e["route"] == "/_debug/wait" && e["status"] == 200), "{logs}");
    }
}
