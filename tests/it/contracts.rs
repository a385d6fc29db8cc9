//! Replays every golden exchange in `contracts/` against a real node (format: contracts/README.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use sesame::store::partners::CallerKind;

use crate::common::{TestApp, TestDb};

/// Stands for any value (JSON) or any text (bodies).
const ANY: &str = "{{any}}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Contract {
    #[allow(dead_code)]
    description: String,
    setup: Setup,
    steps: Vec<Step>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Setup {
    Demo,
    Empty,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    #[serde(rename = "as")]
    caller: Option<Caller>,
    request: Request,
    response: Expected,
}

#[derive(Deserialize, Clone, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum Caller {
    Ent(String),
    Distributor(String),
    Certificate(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    method: String,
    path: String,
    #[serde(default)]
    headers: HashMap<String, String>,
    body: Option<String>,
    body_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    status: u16,
    #[serde(default)]
    headers: HashMap<String, String>,
    json: Option<Value>,
    text: Option<String>,
    text_file: Option<PathBuf>,
    /// Values later steps use as `{{name}}`.
    #[serde(default)]
    capture: HashMap<String, Capture>,
}

/// Where a captured value comes from.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum Capture {
    /// A response header.
    Header(String),
    /// A JSON pointer into the body, e.g. `/token`.
    Json(String),
}

/// Replaces each `{{name}}` of `vars` in `text`; `{{any}}` and unknown names stay.
fn fill(text: &str, vars: &HashMap<String, String>) -> String {
    vars.iter().fold(text.to_owned(), |text, (name, value)| text.replace(&format!("{{{{{name}}}}}"), value))
}

fn fill_json(value: &Value, vars: &HashMap<String, String>) -> Value {
    match value {
        Value::String(s) => Value::String(fill(s, vars)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_json(v, vars)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fill_json(v, vars))).collect()),
        other => other.clone(),
    }
}

/// Every `*.json` under `contracts/` except the README's neighbours that are not contracts.
fn contract_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "json") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts"), &mut found);
    found.sort();
    found
}

/// Whether `actual` matches `expected`: `{{any}}` matches anything, objects may hold extra keys,
/// arrays must match element by element.
fn json_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), _) if s == ANY => true,
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| json_matches(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(e, a)| json_matches(e, a)),
        _ => expected == actual,
    }
}

/// Whether `actual` is `expected` with each `{{any}}` standing for any (possibly empty) text.
fn text_matches(expected: &str, actual: &str) -> bool {
    let mut parts = expected.split(ANY);
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

async fn replay(db: &TestDb, file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let contract: Contract = serde_json::from_str(&text).map_err(|e| format!("not a contract: {e}"))?;
    let app = TestApp::spawn(db).await;
    if contract.setup == Setup::Demo {
        sesame::demo::load(&mut app.conn()).map_err(|e| e.to_string())?;
    }
    let dir = file.parent().unwrap();
    let mut clients: HashMap<Caller, reqwest::Client> = HashMap::new();
    let mut vars = HashMap::from([("public_url".to_owned(), app.public_url.clone())]);
    for (n, step) in contract.steps.iter().enumerate() {
        let fail = |what: String| format!("step {}: {} {}: {what}", n + 1, step.request.method, step.request.path);
        let (client, base) = match &step.caller {
            None => (reqwest::Client::new(), &app.public_url),
            Some(caller) => {
                let client = clients.entry(caller.clone()).or_insert_with(|| match caller {
                    Caller::Ent(id) => app.registered_client(CallerKind::Ent, id),
                    Caller::Distributor(id) => app.registered_client(CallerKind::Distributor, id),
                    Caller::Certificate(_) => app.unregistered_client("contract stranger"),
                });
                (client.clone(), &app.mtls_url)
            }
        };
        let method = reqwest::Method::from_bytes(step.request.method.as_bytes()).map_err(|e| fail(e.to_string()))?;
        let mut request = client.request(method, format!("{base}{}", fill(&step.request.path, &vars)));
        for (name, value) in &step.request.headers {
            request = request.header(name, fill(value, &vars));
        }
        let body = match (&step.request.body, &step.request.body_file) {
            (Some(body), _) => Some(body.clone()),
            (None, Some(path)) => Some(std::fs::read_to_string(dir.join(path)).map_err(|e| fail(e.to_string()))?),
            (None, None) => None,
        };
        if let Some(body) = body {
            request = request.body(fill(&body, &vars));
        }
        let response = request.send().await.map_err(|e| fail(format!("no answer: {e}")))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(|e| fail(e.to_string()))?;
        let expected = &step.response;
        if status != expected.status {
            return Err(fail(format!("status {status}, expected {}; body: {body}", expected.status)));
        }
        for (name, value) in &expected.headers {
            let actual = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
            if actual != Some(fill(value, &vars).as_str()) {
                return Err(fail(format!("header {name}: {actual:?}, expected {value:?}")));
            }
        }
        if let Some(json) = &expected.json {
            let json = &fill_json(json, &vars);
            let actual: Value =
                serde_json::from_str(&body).map_err(|e| fail(format!("body is not JSON ({e}): {body}")))?;
            if !json_matches(json, &actual) {
                return Err(fail(format!("JSON body differs:\nexpected {json:#}\nactual   {actual:#}")));
            }
        }
        let text = match (&expected.text, &expected.text_file) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(path)) => Some(std::fs::read_to_string(dir.join(path)).map_err(|e| fail(e.to_string()))?),
            (None, None) => None,
        };
        if let Some(text) = text.map(|t| fill(&t, &vars))
            && !text_matches(&text, &body)
        {
            return Err(fail(format!("body differs:\nexpected {text}\nactual   {body}")));
        }
        for (name, source) in &expected.capture {
            let value = match source {
                Capture::Header(header) => {
                    headers.get(header.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned)
                }
                Capture::Json(pointer) => serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|json| json.pointer(pointer).and_then(Value::as_str).map(str::to_owned)),
            };
            let value = value.ok_or_else(|| fail(format!("nothing to capture as {name}")))?;
            vars.insert(name.clone(), value);
        }
    }
    Ok(())
}

crate::storage_test! {
    async fn every_contract_replays(_db) {
        let files = contract_files();
        assert!(files.len() >= 2, "contracts/ holds the partner exchanges");
        let mut failures = Vec::new();
        for file in &files {
            // A fresh database per contract, so contracts cannot depend on each other.
            let db = TestDb::new(_db.backend());
            if let Err(e) = replay(&db, file).await {
                failures.push(format!("{}: {e}", file.display()));
            }
        }
        assert!(failures.is_empty(), "{} contract(s) failed:\n{}", failures.len(), failures.join("\n\n"));
    }
}

#[test]
fn matchers_treat_any_as_a_wildcard() {
    assert!(text_matches("a{{any}}c", "abbbc"));
    assert!(text_matches("a{{any}}", "a"));
    assert!(text_matches("{{any}}z", "xyz"));
    assert!(!text_matches("a{{any}}c", "abbb"));
    assert!(!text_matches("abc", "abcd"));
    assert!(text_matches("<a>{{any}}</a><b>{{any}}</b>", "<a>1</a><b>2</b>"));
    let expected = serde_json::json!({"a": "{{any}}", "b": [1, {"c": 2}]});
    assert!(json_matches(&expected, &serde_json::json!({"a": null, "b": [1, {"c": 2, "d": 3}], "e": 4})));
    assert!(!json_matches(&expected, &serde_json::json!({"b": [1, {"c": 2}]})));
    assert!(!json_matches(&expected, &serde_json::json!({"a": 1, "b": [1]})));
    let vars = HashMap::from([("etag".to_owned(), "\"e1\"".to_owned())]);
    assert_eq!(fill("If-None-Match: {{etag}} {{any}} {{unknown}}", &vars), "If-None-Match: \"e1\" {{any}} {{unknown}}");
}
