use std::io::Write;

use figment::providers::Env;

use super::*;

fn load_toml(toml: &str) -> Result<Config, ConfigError> {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(toml.as_bytes()).unwrap();
    // An environment prefix nothing uses keeps the test independent of the process environment.
    Config::load_from(Some(file.path()), Env::prefixed("SESAME_TEST_UNUSED_"))
}

#[test]
fn no_configuration_runs_on_embedded_defaults() {
    let config = load_toml("").unwrap();
    assert_eq!(config.database_url(), DatabaseUrl::Sqlite("sesame-data/sesame.sqlite3".into()));
    assert_eq!(config.public_url(), "http://127.0.0.1:8080");
}

#[test]
fn bad_value_names_its_key() {
    let err = load_toml("[http]\npublic_addr = \"nowhere\"\n").unwrap_err();
    assert!(err.message.contains("`http.public_addr`"), "{}", err.message);
}

#[test]
fn unknown_key_is_rejected() {
    let err = load_toml("[database]\nurll = \"x\"\n").unwrap_err();
    assert!(err.message.contains("urll"), "{}", err.message);
}

#[test]
fn database_url_scheme_is_checked() {
    let err = load_toml("[database]\nurl = \"mysql://x\"\n").unwrap_err();
    assert!(err.message.contains("`database.url`"), "{}", err.message);
}

#[test]
fn log_filter_is_checked() {
    let err = load_toml("[log]\nlevel = \"sesame=loud\"\n").unwrap_err();
    assert!(err.message.contains("`log.level`"), "{}", err.message);
}

#[test]
// figment's Jail closure returns figment::Error, which is large by design.
#[allow(clippy::result_large_err)]
fn environment_overrides_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"[database]\npool_size = 3\n").unwrap();
    figment::Jail::expect_with(|jail| {
        jail.set_env("SESAME_DATABASE__POOL_SIZE", "5");
        let config = Config::load(Some(file.path())).unwrap();
        assert_eq!(config.database.pool_size, 5);
        jail.set_env("SESAME_DATABASE__POOL_SIZE", "many");
        let err = Config::load(Some(file.path())).unwrap_err();
        assert!(err.message.contains("`database.pool_size`"), "{}", err.message);
        Ok(())
    });
}

#[test]
fn example_file_matches_defaults() {
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sesame.example.toml")).unwrap();
    let from_example = load_toml(&example).unwrap();
    assert_eq!(
        serde_json::to_value(&from_example).unwrap(),
        serde_json::to_value(Config::default()).unwrap(),
        "sesame.example.toml drifted from Config::default()"
    );
}

#[test]
fn saml_entity_ids_must_be_uris() {
    let err = load_toml("[saml]\nidp_entity_id = \"not a uri\"\n").unwrap_err();
    assert!(err.message.contains("`saml.idp_entity_id`"), "{}", err.message);
    let config = load_toml("[saml]\nidp_entity_id = \"urn:example:idp\"\n").unwrap();
    assert_eq!(config.saml.idp_entity_id.as_deref(), Some("urn:example:idp"));
}
