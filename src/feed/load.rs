//! Reading an export into the staging tables: files are parsed on one thread while the caller's
//! thread writes the records, so that parsing and database work overlap.
//!
//! A file that is not well-formed, not of the GAR namespaces, or of another degree than the
//! export's other files stops everything: the export is refused as a whole. A record breaking a
//! schema rule is refused alone and reported.

use std::io::BufRead;
use std::sync::mpsc::{SyncSender, sync_channel};

use super::progress::Progress;
use super::report::{FileReport, Rejection};
use super::source::{Export, SourceError};
use super::xml::reader::RawRecord;
use super::xml::{FeedReader, FileType, Parsed, parse, validate};
use crate::domain::Uai;
use crate::domain::directory::Degree;
use crate::store::feed::stage::{self, Batch, Origin, Staged};
use diesel::Connection;

use crate::store::{AnyConnection, StoreError};

/// Records per batch handed to the database thread.
const BATCH_RECORDS: usize = 10_000;

/// What reading found, besides the staged records.
#[derive(Debug, Default)]
pub struct Loaded {
    pub degree: Option<Degree>,
    pub files: Vec<FileReport>,
    /// Refused records and parts, the first `max_listed` of them.
    pub rejections: Vec<Rejection>,
    pub rejected: u64,
    /// Why the export is refused as a whole.
    pub error: Option<String>,
    /// XML read, decompressed.
    pub xml_bytes: u64,
}

impl Loaded {
    /// The file a staged row came from (numbered from 1), and its type.
    pub fn file(&self, number: i32) -> Option<(&str, FileType)> {
        let file = self.files.get(usize::try_from(number).ok()?.checked_sub(1)?)?;
        let file_type = FileType::ALL.into_iter().find(|t| t.name() == file.file_type)?;
        Some((&file.name, file_type))
    }
}

/// Reads and checks every record of `export` without touching a database: the parsing ceiling
/// the benchmark compares imports with.
pub fn parse_only(export: &Export, max_bytes: u64, max_listed: usize, progress: &dyn Progress) -> Loaded {
    let (sender, batches) = sync_channel::<Batch>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || batches.into_iter().for_each(drop));
        read_export(export, max_bytes, max_listed, progress, sender)
    })
}

/// Reads `export` into staging. `between_batches` runs on the database thread after each batch
/// (the import renews its lease there).
pub fn load(
    conn: &mut AnyConnection,
    export: &Export,
    max_bytes: u64,
    max_listed: usize,
    progress: &dyn Progress,
    mut between_batches: impl FnMut(&mut AnyConnection) -> Result<(), StoreError>,
) -> Result<Loaded, StoreError> {
    let (sender, batches) = sync_channel::<Batch>(2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_export(export, max_bytes, max_listed, progress, sender));
        let mut staged = Ok(());
        let mut staging = std::time::Duration::ZERO;
        for mut batch in batches {
            let started = std::time::Instant::now();
            // One transaction per batch: on SQLite it only touches the temporary database, so
            // other connections keep writing the main one.
            staged = conn.transaction(|conn| stage::stage(conn, &mut batch)).and_then(|()| between_batches(conn));
            staging += started.elapsed();
            if staged.is_err() {
                // Dropping the receiver stops the reader at its next batch.
                break;
            }
        }
        tracing::debug!(staging_ms = staging.as_millis() as u64, "export staged");
        let loaded = reader.join().unwrap_or_else(|_| Loaded {
            error: Some("the export reader failed unexpectedly".into()),
            ..Loaded::default()
        });
        staged.map(|()| loaded)
    })
}

enum Stop {
    /// The file (and so the export) is refused.
    Refused(String),
    /// The database side stopped listening.
    Cancelled,
}

struct Reading<'a> {
    loaded: Loaded,
    batch: Batch,
    /// Records in `batch`.
    batched: usize,
    sender: SyncSender<Batch>,
    max_listed: usize,
    progress: &'a dyn Progress,
}

fn read_export(
    export: &Export,
    max_bytes: u64,
    max_listed: usize,
    progress: &dyn Progress,
    sender: SyncSender<Batch>,
) -> Loaded {
    let mut reading =
        Reading { loaded: Loaded::default(), batch: Batch::default(), batched: 0, sender, max_listed, progress };
    let total = export.size();
    let report = |done| progress.bytes(done, total);
    let outcome = export.read_files(max_bytes, &report, |name, input| reading.file(name, input));
    let mut loaded = match outcome {
        Err(e) => Loaded { error: Some(e.to_string()), ..reading.loaded },
        Ok(Err(Stop::Refused(reason))) => Loaded { error: Some(reason), ..reading.loaded },
        Ok(Err(Stop::Cancelled)) => reading.loaded,
        Ok(Ok(())) => {
            let last = std::mem::take(&mut reading.batch);
            let _ = reading.sender.send(last);
            reading.loaded
        }
    };
    if loaded.error.is_none() {
        let missing: Vec<&str> = FileType::ALL
            .into_iter()
            .filter(|t| !loaded.files.iter().any(|f| f.file_type == t.name()))
            .map(FileType::root)
            .collect();
        if !missing.is_empty() {
            loaded.error = Some(format!(
                "the export has no {} file: a complete export holds the five files (Etab, Eleve, Enseignant, \
                 Groupe, RespAff), and applying a partial one would remove what the missing files hold",
                missing.join(", ")
            ));
        }
    }
    loaded
}

impl Reading<'_> {
    fn file(&mut self, name: &str, input: &mut dyn BufRead) -> Result<(), Stop> {
        let refused = |e: super::xml::FileError| Stop::Refused(format!("{name}, {e}"));
        let mut reader = FeedReader::open(input).map_err(refused)?;
        let header = reader.header().clone();
        match self.loaded.degree {
            Some(degree) if degree != header.degree => {
                return Err(Stop::Refused(format!(
                    "{name} is a degree {} file but the export's other files are degree {degree}: \
                     first- and second-degree files come in separate exports",
                    header.degree
                )));
            }
            _ => self.loaded.degree = Some(header.degree),
        }
        self.progress.phase(super::progress::Phase::Reading);
        self.loaded.files.push(FileReport {
            name: name.to_owned(),
            file_type: header.file_type.name().to_owned(),
            version: header.version.clone(),
            records: 0,
        });
        let file_no = self.loaded.files.len() as i32;
        let root = header.file_type.root();
        while let Some(raw) = reader.next_record().map_err(refused)? {
            if let Some(file) = self.loaded.files.last_mut() {
                file.records += 1;
            }
            let origin = Origin { file: file_no, line: raw.line as i64, index: raw.index as i32 };
            let path = format!("{root}/{}[{}]", raw.name(), raw.index);
            let mut dropped = Vec::new();
            match validate(&raw, header.degree, header.file_type).and_then(|r| parse(&r, header.degree, &mut dropped)) {
                Ok(parsed) => self.push(parsed, origin),
                Err(invalid) => {
                    self.refuse(Rejection {
                        file: name.to_owned(),
                        line: invalid.line,
                        path: path.clone(),
                        id: identifier(&raw),
                        reason: invalid.reason,
                    });
                    if let Some(key) = refused_key(&raw) {
                        self.batch.refused.push(key);
                    }
                }
            }
            for part in dropped {
                self.refuse(Rejection {
                    file: name.to_owned(),
                    line: part.line,
                    path: format!("{path}/{}", part.element),
                    id: identifier(&raw),
                    reason: part.reason,
                });
            }
            self.batched += 1;
            if self.batched >= BATCH_RECORDS {
                self.batched = 0;
                let full = std::mem::take(&mut self.batch);
                self.sender.send(full).map_err(|_| Stop::Cancelled)?;
            }
        }
        self.loaded.xml_bytes += reader.position();
        Ok(())
    }

    fn refuse(&mut self, rejection: Rejection) {
        self.loaded.rejected += 1;
        if self.loaded.rejections.len() < self.max_listed {
            self.loaded.rejections.push(rejection);
        }
    }

    fn push(&mut self, parsed: Parsed, origin: Origin) {
        let b = &mut self.batch;
        match parsed {
            Parsed::Establishment(record) => b.establishments.push(Staged { record, origin }),
            Parsed::Mef(record) => b.mefs.push(Staged { record, origin }),
            Parsed::Subject(record) => b.subjects.push(Staged { record, origin }),
            Parsed::Person(record) => b.persons.push(Staged { record, origin }),
            Parsed::PersonMef(record) => b.person_mefs.push(Staged { record, origin }),
            Parsed::PersonMefStat4(record) => b.person_mefstat4.push(Staged { record, origin }),
            Parsed::PupilSubject(record) => b.pupil_subjects.push(Staged { record, origin }),
            Parsed::Group(record) => b.groups.push(Staged { record, origin }),
            Parsed::PersonGroup(record) => b.person_groups.push(Staged { record, origin }),
            Parsed::ClassSubjects(record) => b.class_subjects.push(Staged { record, origin }),
            Parsed::GroupSubjects(record) => b.group_subjects.push(Staged { record, origin }),
            Parsed::Manager(record) => b.managers.push(Staged { record, origin }),
        }
    }
}

/// What a report names a record by: its person, else its code, else its establishment.
fn identifier(raw: &RawRecord<'_>) -> String {
    ["GARPersonIdentifiant", "GARGroupeCode", "GARMEFCode", "GARMatiereCode", "GARStructureUAI"]
        .iter()
        .find_map(|name| raw.child_text(name))
        .unwrap_or_default()
        .to_owned()
}

/// The key of a refused record, so that what it names in the directory is left alone.
fn refused_key(raw: &RawRecord<'_>) -> Option<(&'static str, String, String)> {
    let text = |name| raw.child_text(name).map(str::to_owned);
    let uai =
        || raw.child_text("GARStructureUAI").map(|u| Uai::parse(u).map(String::from).unwrap_or_else(|_| u.to_owned()));
    match raw.name() {
        "GAREleve" | "GAREnseignant" => Some(("person", text("GARPersonIdentifiant")?, String::new())),
        "GARRespAff" => Some(("manager", text("GARPersonIdentifiant")?, String::new())),
        "GAREtab" => Some(("establishment", uai()?, String::new())),
        "GARGroupe" => Some(("group", uai()?, text("GARGroupeCode")?)),
        "GARMEF" => Some(("mef", uai()?, text("GARMEFCode")?)),
        "GARMatiere" => Some(("subject", uai()?, text("GARMatiereCode")?)),
        _ => None,
    }
}

impl From<SourceError> for Stop {
    fn from(e: SourceError) -> Self {
        Stop::Refused(e.to_string())
    }
}
