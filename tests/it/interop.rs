//! Independent SAML tools for the interoperability tests: python3-saml, pysaml2, signxml and
//! lxml in a virtualenv, @node-saml/node-saml in a node folder, and the xmlsec1 command. The
//! README's test command (`scripts/test`) installs them and exports where they are; without
//! them these tests fail and say so, rather than passing untested.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

const HOW: &str = "run the README's test command (./scripts/test), which installs the interoperability tools \
                   (tests/interop) and exports TEST_INTEROP_PYTHON, TEST_INTEROP_NODE_MODULES and TEST_INTEROP_XMLSEC1";

fn tool(variable: &str) -> PathBuf {
    let path = std::env::var_os(variable).unwrap_or_else(|| panic!("{variable} is not set: {HOW}"));
    let path = PathBuf::from(path);
    assert!(path.exists(), "{variable}={} does not exist: {HOW}", path.display());
    path
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(name)
}

/// The xmlsec1 command.
pub fn xmlsec1() -> PathBuf {
    tool("TEST_INTEROP_XMLSEC1")
}

/// Runs a program with `input` as JSON on stdin and returns its JSON output.
fn run_json(mut command: Command, input: &Value) -> Value {
    let description = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {description}: {e}: {HOW}"));
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{description} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{description} printed no JSON ({e}): {}", String::from_utf8_lossy(&output.stdout)))
}

/// A Python script of tests/interop in the interop virtualenv.
pub fn python(name: &str, args: &[&str], input: &Value) -> Value {
    let mut command = Command::new(tool("TEST_INTEROP_PYTHON"));
    command.arg(script(name)).args(args);
    run_json(command, input)
}

/// A node script of tests/interop with the interop node modules.
pub fn node(name: &str, input: &Value) -> Value {
    let mut command = Command::new("node");
    command.arg(script(name)).env("NODE_PATH", tool("TEST_INTEROP_NODE_MODULES"));
    run_json(command, input)
}

/// What a publisher's service provider made of a response.
#[derive(Debug)]
pub struct SpVerdict {
    pub accepted: bool,
    pub name_id: Option<String>,
    pub attributes: serde_json::Map<String, Value>,
    pub error: Option<String>,
}

impl SpVerdict {
    fn from_json(value: Value) -> Self {
        Self {
            accepted: value["accepted"].as_bool().unwrap(),
            name_id: value["name_id"].as_str().map(str::to_owned),
            attributes: value["attributes"].as_object().cloned().unwrap_or_default(),
            error: value["error"].as_str().map(str::to_owned),
        }
    }

    /// The values the SP read for an attribute, as strings.
    pub fn values(&self, name: &str) -> Vec<String> {
        self.attributes
            .get(name)
            .and_then(Value::as_array)
            .map(|values| values.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    }
}

/// An independent service provider implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sp {
    Python3Saml,
    Pysaml2,
    NodeSaml,
}

impl Sp {
    pub const ALL: [Sp; 3] = [Sp::Python3Saml, Sp::Pysaml2, Sp::NodeSaml];

    /// Lets the SP validate `saml_response` as received at `acs_url`, configured from `idp_metadata`.
    pub fn verify(
        self,
        idp_metadata: &str,
        saml_response: &str,
        sp_entity_id: &str,
        acs_url: &str,
        request_id: Option<&str>,
    ) -> SpVerdict {
        self.verify_signed(idp_metadata, saml_response, sp_entity_id, acs_url, request_id, true)
    }

    /// As `verify`; with `response_signed` false the SP requires only the assertion to be signed.
    pub fn verify_signed(
        self,
        idp_metadata: &str,
        saml_response: &str,
        sp_entity_id: &str,
        acs_url: &str,
        request_id: Option<&str>,
        response_signed: bool,
    ) -> SpVerdict {
        let input = serde_json::json!({
            "idp_metadata": idp_metadata,
            "saml_response": saml_response,
            "sp_entity_id": sp_entity_id,
            "acs_url": acs_url,
            "request_id": request_id,
            "xmlsec1": xmlsec1(),
            "response_signed": response_signed,
        });
        SpVerdict::from_json(match self {
            Sp::Python3Saml => python("publisher_sp.py", &["python3-saml", "verify"], &input),
            Sp::Pysaml2 => python("publisher_sp.py", &["pysaml2", "verify"], &input),
            Sp::NodeSaml => node("publisher_sp.js", &input),
        })
    }

    pub fn engine(self) -> &'static str {
        match self {
            Sp::Python3Saml => "python3-saml",
            Sp::Pysaml2 => "pysaml2",
            Sp::NodeSaml => "node-saml",
        }
    }
}
