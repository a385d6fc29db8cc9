//! The report of an import: counts per entity type, each refused element with its file, line,
//! path, identifier and reason, and what was held or refused as a whole.
//!
//! Stored as JSON in `feed_imports.report`, printed by the CLI, served as JSON or XML by
//! `GET /feed/v1/{idENT}/reports/{id}`. Formats: `schema/feed-report.schema.json` and
//! `schema/feed-report.xsd`.

use std::fmt;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::{Deserialize, Serialize};

use crate::store::feed::apply::{LargeDeletion, Tally};

/// Namespace of the XML rendering.
pub const XML_NAMESPACE: &str = "urn:sesame:feed-report:1";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub id: i64,
    pub ent: String,
    /// 1 or 2; absent when the export was refused before its degree was known.
    pub degree: Option<u8>,
    /// RUNNING, APPLIED, HELD, REJECTED or DISCARDED.
    pub status: String,
    /// The bundle's name, or the XML files'.
    pub source: String,
    /// Who sent or confirmed it, e.g. `ent:Z0`, `operator:cli`.
    pub actor: String,
    /// `verified` when the bundle's `.md5` matched, `absent` when there was none to check.
    pub checksum: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub files: Vec<FileReport>,
    pub counts: Vec<EntityCount>,
    /// Refused elements in all, of which `rejections` lists the first ones.
    pub rejected: u64,
    pub rejections: Vec<Rejection>,
    /// Records repeated with other content, in all; the first occurrence was kept.
    pub repeated: u64,
    pub repeats: Vec<Rejection>,
    /// Why the export waits for confirmation.
    pub held: Option<Hold>,
    /// Establishments where something changed (for the licence ledger).
    pub affected_establishments: Vec<String>,
    /// Why the export was refused as a whole.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub name: String,
    /// Etab, Eleve, Enseignant, Groupe or RespAff.
    #[serde(rename = "type")]
    pub file_type: String,
    pub version: String,
    pub records: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityCount {
    pub entity: String,
    #[serde(flatten)]
    pub tally: Tally,
}

/// One refused element.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub file: String,
    pub line: u64,
    /// e.g. `GAR-ENT-Groupe/GARPersonGroupe[42]`.
    pub path: String,
    /// The GARPersonIdentifiant, UAI or code of the record.
    pub id: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    /// The share of an establishment's persons an export may detach without confirmation.
    pub threshold: f64,
    pub establishments: Vec<LargeDeletion>,
}

impl Report {
    /// The counts as a JSON object keyed by entity, for `feed_imports.summary`.
    pub fn summary(&self) -> serde_json::Value {
        let counts: serde_json::Map<String, serde_json::Value> =
            self.counts.iter().map(|c| (c.entity.clone(), serde_json::to_value(c.tally).unwrap_or_default())).collect();
        serde_json::json!({ "counts": counts, "rejected": self.rejected, "repeated": self.repeated })
    }

    /// A count by entity name (tests, CLI).
    pub fn tally(&self, entity: &str) -> Tally {
        self.counts.iter().find(|c| c.entity == entity).map(|c| c.tally).unwrap_or_default()
    }

    /// The XML rendering (`schema/feed-report.xsd`).
    pub fn to_xml(&self) -> String {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        let xml = (|| -> std::io::Result<()> {
            writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
            let mut root = BytesStart::new("feedReport");
            root.push_attribute(("xmlns", XML_NAMESPACE));
            root.push_attribute(("id", self.id.to_string().as_str()));
            root.push_attribute(("ent", self.ent.as_str()));
            if let Some(degree) = self.degree {
                root.push_attribute(("degree", degree.to_string().as_str()));
            }
            root.push_attribute(("status", self.status.as_str()));
            writer.write_event(Event::Start(root))?;
            for (name, value) in [
                ("source", Some(self.source.as_str())),
                ("actor", Some(self.actor.as_str())),
                ("checksum", Some(self.checksum.as_str())),
                ("startedAt", Some(self.started_at.as_str())),
                ("finishedAt", self.finished_at.as_deref()),
                ("error", self.error.as_deref()),
            ] {
                if let Some(value) = value {
                    text_element(&mut writer, name, value)?;
                }
            }
            writer.write_event(Event::Start(BytesStart::new("files")))?;
            for file in &self.files {
                let mut element = BytesStart::new("file");
                element.push_attribute(("name", file.name.as_str()));
                element.push_attribute(("type", file.file_type.as_str()));
                element.push_attribute(("version", file.version.as_str()));
                element.push_attribute(("records", file.records.to_string().as_str()));
                writer.write_event(Event::Empty(element))?;
            }
            writer.write_event(Event::End(BytesEnd::new("files")))?;
            writer.write_event(Event::Start(BytesStart::new("counts")))?;
            for count in &self.counts {
                let mut element = BytesStart::new("count");
                element.push_attribute(("entity", count.entity.as_str()));
                for (name, value) in [
                    ("created", count.tally.created),
                    ("updated", count.tally.updated),
                    ("unchanged", count.tally.unchanged),
                    ("removed", count.tally.removed),
                ] {
                    element.push_attribute((name, value.to_string().as_str()));
                }
                writer.write_event(Event::Empty(element))?;
            }
            writer.write_event(Event::End(BytesEnd::new("counts")))?;
            for (list, item, total, entries) in [
                ("rejections", "rejection", self.rejected, &self.rejections),
                ("repeats", "repeat", self.repeated, &self.repeats),
            ] {
                let mut element = BytesStart::new(list);
                element.push_attribute(("total", total.to_string().as_str()));
                writer.write_event(Event::Start(element))?;
                for entry in entries {
                    let mut element = BytesStart::new(item);
                    element.push_attribute(("file", entry.file.as_str()));
                    element.push_attribute(("line", entry.line.to_string().as_str()));
                    element.push_attribute(("path", entry.path.as_str()));
                    element.push_attribute(("id", entry.id.as_str()));
                    writer.write_event(Event::Start(element))?;
                    writer.write_event(Event::Text(BytesText::new(&entry.reason)))?;
                    writer.write_event(Event::End(BytesEnd::new(item)))?;
                }
                writer.write_event(Event::End(BytesEnd::new(list)))?;
            }
            if let Some(hold) = &self.held {
                let mut element = BytesStart::new("held");
                element.push_attribute(("threshold", hold.threshold.to_string().as_str()));
                writer.write_event(Event::Start(element))?;
                for deletion in &hold.establishments {
                    let mut element = BytesStart::new("establishment");
                    element.push_attribute(("uai", deletion.uai.as_str()));
                    element.push_attribute(("persons", deletion.persons.to_string().as_str()));
                    element.push_attribute(("detached", deletion.detached.to_string().as_str()));
                    writer.write_event(Event::Empty(element))?;
                }
                writer.write_event(Event::End(BytesEnd::new("held")))?;
            }
            writer.write_event(Event::Start(BytesStart::new("affectedEstablishments")))?;
            for uai in &self.affected_establishments {
                text_element(&mut writer, "uai", uai)?;
            }
            writer.write_event(Event::End(BytesEnd::new("affectedEstablishments")))?;
            writer.write_event(Event::End(BytesEnd::new("feedReport")))?;
            Ok(())
        })();
        xml.expect("writing to memory cannot fail");
        String::from_utf8(writer.into_inner()).expect("the writer only writes UTF-8")
    }
}

fn text_element(writer: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(name)))?;
    writer.write_event(Event::Text(BytesText::new(value)))?;
    writer.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

/// The human-readable summary the CLI prints.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "import {} of {} for ENT project {}: {}", self.id, self.source, self.ent, self.status)?;
        if let Some(error) = &self.error {
            writeln!(f, "  refused: {error}")?;
        }
        if let Some(hold) = &self.held {
            writeln!(
                f,
                "  held: it would detach more than {:.0} % of the persons of {} establishment(s); \
                 confirm with `sesame feed confirm {}`",
                hold.threshold * 100.0,
                hold.establishments.len(),
                self.id
            )?;
            for d in &hold.establishments {
                writeln!(f, "    {}: {} of {} persons detached", d.uai, d.detached, d.persons)?;
            }
        }
        if !self.counts.is_empty() {
            writeln!(f, "  {:<22} {:>9} {:>9} {:>9} {:>9}", "", "created", "updated", "unchanged", "removed")?;
            for c in &self.counts {
                let t = c.tally;
                writeln!(
                    f,
                    "  {:<22} {:>9} {:>9} {:>9} {:>9}",
                    c.entity, t.created, t.updated, t.unchanged, t.removed
                )?;
            }
        }
        for (title, total, list) in
            [("rejected", self.rejected, &self.rejections), ("repeated", self.repeated, &self.repeats)]
        {
            if total > 0 {
                writeln!(f, "  {total} element(s) {title}:")?;
                for r in list {
                    writeln!(f, "    {}:{} {} [{}]: {}", r.file, r.line, r.path, r.id, r.reason)?;
                }
                if (list.len() as u64) < total {
                    writeln!(f, "    … and {} more (see the stored report)", total - list.len() as u64)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_rendering_escapes_and_lists() {
        let report = Report {
            id: 7,
            ent: "Z0".into(),
            degree: Some(2),
            status: "APPLIED".into(),
            source: "a & b".into(),
            counts: vec![EntityCount { entity: "pupils".into(), tally: Tally { created: 3, ..Tally::default() } }],
            rejected: 1,
            rejections: vec![Rejection { reason: "x < y".into(), ..Rejection::default() }],
            ..Report::default()
        };
        let xml = report.to_xml();
        assert!(xml.contains("<source>a &amp; b</source>"), "{xml}");
        assert!(xml.contains(r#"<count entity="pupils" created="3" updated="0" unchanged="0" removed="0"/>"#), "{xml}");
        assert!(xml.contains("x &lt; y</rejection>"), "{xml}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["counts"][0]["created"], 3);
        assert_eq!(serde_json::from_value::<Report>(json).unwrap(), report);
    }
}
