//! Liveness, readiness and metrics on a real node.

use crate::common::TestApp;
use crate::storage_test;

storage_test! {
    async fn health_ready_and_metrics(db) {
        let app = TestApp::spawn(&db).await;
        let http = reqwest::Client::new();

        let healthz = http.get(format!("{}/healthz", app.public_url)).send().await.unwrap();
        assert_eq!(healthz.status(), 200);
        let readyz = http.get(format!("{}/readyz", app.public_url)).send().await.unwrap();
        assert_eq!(readyz.status(), 200);
        assert_eq!(readyz.json::<serde_json::Value>().await.unwrap()["status"], "ready");

        let metrics = http.get(format!("{}/metrics", app.public_url)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("sesame_build_info{version=\""), "{metrics}");
        assert!(metrics.contains("sesame_db_pool_max_connections 4"), "{metrics}");
        assert!(
            metrics.contains(r#"sesame_http_requests_total{endpoint="/readyz",listener="public",method="GET",status="200"} 1"#),
            "{metrics}"
        );
        assert!(metrics.contains("sesame_http_requests_duration_seconds_bucket{endpoint=\"/healthz\""), "{metrics}");
    }
}

storage_test! {
    async fn readyz_reports_lost_database(db) {
        let app = TestApp::spawn(&db).await;
        // Emptying the migration ledger makes the schema look out of date.
        diesel::connection::SimpleConnection::batch_execute(&mut *app.conn(), "DELETE FROM __diesel_schema_migrations").unwrap();
        let readyz = reqwest::get(format!("{}/readyz", app.public_url)).await.unwrap();
        assert_eq!(readyz.status(), 503);
        assert_eq!(readyz.json::<serde_json::Value>().await.unwrap()["reason"], "database migrations pending");
    }
}
