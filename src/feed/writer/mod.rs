//! Writing a directory as a GAR-ENT export, as ENTs deliver it: five file types, a new file every
//! 10,000 elements (every element counts, parent or child), named
//! `<idENT>_GAR-ENT_Complet_<yyyyMMdd>_<HHmmss>_<2D|1D>_<Type>_<NNNN>.xml`, packed in a `.tar.gz`
//! with a `.md5` holding the archive's MD5 in lower-case hex (or left as loose files).
//!
//! Records can be appended in several calls (a generated académie, school after school): memory
//! holds at most one file per type.

mod records;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use md5::{Digest, Md5};

use super::source::ExportName;
use super::xml::FileType;
use super::xml::spec::{self, namespace};
use crate::domain::directory::{Degree, Directory};
use records::Element;

/// Elements per file, as the GAR's reference generators split.
pub const MAX_NODES_PER_FILE: usize = 10_000;

/// Where the files go.
enum Sink {
    Bundle { archive: Box<tar::Builder<GzEncoder<Hashing<BufWriter<File>>>>>, path: PathBuf },
    Folder(PathBuf),
}

/// A file type's file being filled: one section per record kind, so the kinds come out in
/// the schema's order.
struct Pending {
    sections: Vec<String>,
    nodes: usize,
    /// Files of this type already written.
    written: u32,
}

/// Writes one export (one ENT project, one degree).
pub struct ExportWriter {
    name: ExportName,
    sink: Sink,
    pending: Vec<(FileType, Pending)>,
    max_nodes: usize,
    mtime: u64,
    files: Vec<PathBuf>,
}

/// What was written.
#[derive(Debug)]
pub struct Written {
    /// The archive, or the loose files.
    pub paths: Vec<PathBuf>,
    /// The archive's `.md5`, when an archive was written.
    pub md5: Option<PathBuf>,
    pub xml_files: usize,
}

impl ExportWriter {
    /// An export packed as `<dir>/<name>.tar.gz` with its `.md5`.
    pub fn bundle(dir: &Path, name: ExportName) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.tar.gz", name.stem()));
        let file = BufWriter::new(File::create(&path)?);
        let encoder = GzEncoder::new(Hashing { inner: file, md5: Md5::new() }, Compression::fast());
        Ok(Self::new(name, Sink::Bundle { archive: Box::new(tar::Builder::new(encoder)), path }))
    }

    /// An export as loose XML files in `dir`.
    pub fn folder(dir: &Path, name: ExportName) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self::new(name, Sink::Folder(dir.to_owned())))
    }

    fn new(name: ExportName, sink: Sink) -> Self {
        let mtime = chrono::NaiveDateTime::parse_from_str(&name.stamp, "%Y%m%d_%H%M%S")
            .map(|t| t.and_utc().timestamp().max(0) as u64)
            .unwrap_or(0);
        Self { name, sink, pending: Vec::new(), max_nodes: MAX_NODES_PER_FILE, mtime, files: Vec::new() }
    }

    /// Splits files at `max_nodes` elements instead (tests).
    pub fn with_max_nodes(mut self, max_nodes: usize) -> Self {
        self.max_nodes = max_nodes.max(1);
        self
    }

    /// Appends every record of `dir`, which must hold records of this export's degree only
    /// (`Directory::of_degree`).
    pub fn write(&mut self, dir: &Directory) -> io::Result<()> {
        let degree = self.name.degree;
        for e in &dir.establishments {
            self.add(FileType::Etab, "GAREtab", records::establishment(e))?;
        }
        for m in &dir.mefs {
            self.add(FileType::Etab, "GARMEF", records::mef(m))?;
        }
        for s in &dir.subjects {
            self.add(FileType::Etab, "GARMatiere", records::subject(s))?;
        }
        for p in &dir.persons {
            let (file, element) = match p.source {
                crate::domain::directory::PersonSource::Pupil => (FileType::Eleve, "GAREleve"),
                crate::domain::directory::PersonSource::Staff => (FileType::Enseignant, "GAREnseignant"),
            };
            self.add(file, element, records::person(p, degree))?;
        }
        let pupils: std::collections::HashSet<&str> = dir
            .persons
            .iter()
            .filter(|p| p.source == crate::domain::directory::PersonSource::Pupil)
            .map(|p| p.gar_id.as_str())
            .collect();
        let file_of = |gar_id: &str| if pupils.contains(gar_id) { FileType::Eleve } else { FileType::Enseignant };
        for m in &dir.person_mefs {
            self.add(file_of(&m.gar_id), "GARPersonMEF", records::person_mef(m))?;
        }
        for m in &dir.person_mefstat4 {
            self.add(file_of(&m.gar_id), "GARPersonMEFSTAT4", records::person_mefstat4(m))?;
        }
        for s in &dir.pupil_subjects {
            self.add(FileType::Eleve, "GAREleveEnseignement", records::pupil_subject(s))?;
        }
        for g in &dir.groups {
            self.add(FileType::Groupe, "GARGroupe", records::group(g))?;
        }
        for m in &dir.person_groups {
            self.add(FileType::Groupe, "GARPersonGroupe", records::person_group(m))?;
        }
        for t in &dir.group_subjects {
            self.add(FileType::Groupe, "GAREnsGroupeMatiere", records::teaching("GAREnsGroupeMatiere", t))?;
        }
        for t in &dir.class_subjects {
            self.add(FileType::Groupe, "GAREnsClasseMatiere", records::teaching("GAREnsClasseMatiere", t))?;
        }
        for m in &dir.assignment_managers {
            self.add(FileType::RespAff, "GARRespAff", records::manager(m))?;
        }
        Ok(())
    }

    fn add(&mut self, file: FileType, record: &str, element: Element) -> io::Result<()> {
        let kinds = spec::records(self.name.degree, file);
        let section = kinds.iter().position(|r| r.name == record).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{record} has no place in a {} file", file.root()))
        })?;
        let index = match self.pending.iter().position(|(t, _)| *t == file) {
            Some(index) => index,
            None => {
                let fresh = Pending { sections: vec![String::new(); kinds.len()], nodes: 0, written: 0 };
                self.pending.push((file, fresh));
                self.pending.len() - 1
            }
        };
        if self.pending[index].1.nodes > 0 && self.pending[index].1.nodes + element.nodes > self.max_nodes {
            self.flush(index)?;
        }
        let pending = &mut self.pending[index].1;
        pending.sections[section].push_str(&element.xml);
        pending.nodes += element.nodes;
        Ok(())
    }

    /// Writes the pending file of one type.
    fn flush(&mut self, index: usize) -> io::Result<()> {
        let (file_type, pending) = &mut self.pending[index];
        let name = format!("{}_{}_{:04}.xml", self.name.stem(), file_type.name(), pending.written);
        let ns = namespace(self.name.degree);
        let xsd = match self.name.degree {
            Degree::First => "GAR-ENT-1D.xsd",
            Degree::Second => "GAR-ENT.xsd",
        };
        let root = file_type.root();
        let mut xml = String::with_capacity(pending.sections.iter().map(String::len).sum::<usize>() + 512);
        xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<men:{root} xmlns:men=\"{ns}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"{ns} {xsd}\" Version=\"1.0\">\n"
        ));
        for section in &mut pending.sections {
            xml.push_str(section);
            section.clear();
        }
        xml.push_str(&format!("</men:{root}>\n"));
        pending.nodes = 0;
        pending.written += 1;
        match &mut self.sink {
            Sink::Folder(dir) => {
                let path = dir.join(&name);
                std::fs::write(&path, xml)?;
                self.files.push(path);
            }
            Sink::Bundle { archive, .. } => {
                let mut header = tar::Header::new_gnu();
                header.set_size(xml.len() as u64);
                header.set_mode(0o644);
                header.set_mtime(self.mtime);
                header.set_entry_type(tar::EntryType::Regular);
                archive.append_data(&mut header, &name, xml.as_bytes())?;
                self.files.push(PathBuf::from(name));
            }
        }
        Ok(())
    }

    /// Writes the last files (every type gets at least one, possibly empty) and closes the archive.
    pub fn finish(mut self) -> io::Result<Written> {
        let kinds: Vec<FileType> = FileType::ALL.to_vec();
        for file in kinds {
            if !self.pending.iter().any(|(t, _)| *t == file) {
                let sections = vec![String::new(); spec::records(self.name.degree, file).len()];
                self.pending.push((file, Pending { sections, nodes: 0, written: 0 }));
            }
        }
        self.pending.sort_by_key(|(t, _)| *t);
        for index in 0..self.pending.len() {
            let pending = &self.pending[index].1;
            if pending.nodes > 0 || pending.written == 0 {
                self.flush(index)?;
            }
        }
        let xml_files = self.files.len();
        match self.sink {
            Sink::Folder(_) => Ok(Written { paths: self.files, md5: None, xml_files }),
            Sink::Bundle { archive, path } => {
                let encoder = archive.into_inner()?;
                let mut hashing = encoder.finish()?;
                hashing.inner.flush()?;
                let md5 = hex::encode(hashing.md5.finalize());
                let md5_path = path.with_file_name(format!("{}.md5", self.name.stem()));
                std::fs::write(&md5_path, format!("{md5}\n"))?;
                Ok(Written { paths: vec![path], md5: Some(md5_path), xml_files })
            }
        }
    }
}

/// Computes the MD5 of what goes through.
struct Hashing<W> {
    inner: W,
    md5: Md5,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
