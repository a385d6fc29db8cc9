//! Where an export comes from, and reading its XML files one after the other.
//!
//! An export is either a bundle — a tar archive, gzip-compressed as ENTs deliver it
//! (`<idENT>_GAR-ENT_Complet_<yyyyMMdd>_<HHmmss>_<2D|1D>.tar.gz`, with a sibling `.md5` holding the
//! archive's MD5 in hex) — or a set of loose XML files. Archives are read as a stream, never
//! unpacked to disk, and the total of decompressed XML is capped (gzip bombs).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use md5::{Digest, Md5};

use crate::domain::directory::Degree;

/// The parts of a GAR export name, `<idENT>_GAR-ENT_Complet_<yyyyMMdd>_<HHmmss>_<2D|1D>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportName {
    pub ent_id: String,
    /// `yyyyMMdd_HHmmss`.
    pub stamp: String,
    pub degree: Degree,
}

impl ExportName {
    const CORE: &'static str = "_GAR-ENT_Complet_";

    /// Reads a bundle, checksum or XML file name (`…_2D.tar.gz`, `…_2D.md5`, `…_2D_Eleve_0000.xml`).
    pub fn parse(file_name: &str) -> Option<Self> {
        let (ent_id, rest) = file_name.split_once(Self::CORE)?;
        let (date, rest) = rest.split_at_checked(8)?;
        let (time, rest) = rest.strip_prefix('_')?.split_at_checked(6)?;
        let degree = match rest.get(..3)? {
            "_2D" => Degree::Second,
            "_1D" => Degree::First,
            _ => return None,
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if ent_id.is_empty() || !digits(date) || !digits(time) {
            return None;
        }
        Some(Self { ent_id: ent_id.to_owned(), stamp: format!("{date}_{time}"), degree })
    }

    pub fn stem(&self) -> String {
        let degree = match self.degree {
            Degree::First => "1D",
            Degree::Second => "2D",
        };
        format!("{}{}{}_{degree}", self.ent_id, Self::CORE, self.stamp)
    }
}

/// One export to import.
#[derive(Clone, Debug)]
pub enum Export {
    /// A tar archive (gzip-compressed or not) of XML files, and the MD5 its `.md5` announces.
    Bundle { path: PathBuf, name: String, md5: Option<String> },
    /// Loose XML files.
    Files { files: Vec<PathBuf>, name: String },
}

/// Why an export's files cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the archive's MD5 is {actual} but its .md5 file says {expected}: the bundle is refused")]
    Checksum { expected: String, actual: String },
    #[error("the .md5 file does not hold an MD5 in hexadecimal")]
    BadChecksumFile,
    #[error("the export holds more than {0} bytes of XML once decompressed")]
    TooLarge(u64),
    #[error("cannot read {what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("the archive holds no XML file")]
    NoFiles,
}

impl Export {
    /// The bundle at `path`, with the checksum of its sibling `.md5` when there is one.
    pub fn bundle(path: &Path) -> Result<Self, SourceError> {
        let name = file_name(path);
        let md5_path = sibling_md5(path);
        let md5 = match std::fs::read_to_string(&md5_path) {
            Ok(text) => Some(parse_md5(&text)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(SourceError::Io { what: md5_path.display().to_string(), source }),
        };
        Ok(Export::Bundle { path: path.to_owned(), name, md5 })
    }

    /// How the import's report names the export.
    pub fn name(&self) -> &str {
        match self {
            Export::Bundle { name, .. } | Export::Files { name, .. } => name,
        }
    }

    /// What the file names say, when they follow the GAR convention.
    pub fn name_parts(&self) -> Option<ExportName> {
        match self {
            Export::Bundle { name, .. } => ExportName::parse(name),
            Export::Files { files, .. } => files.iter().find_map(|f| ExportName::parse(&file_name(f))),
        }
    }

    /// Bytes read from disk, for progress.
    pub fn size(&self) -> u64 {
        let size = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        match self {
            Export::Bundle { path, .. } => size(path),
            Export::Files { files, .. } => files.iter().map(size).sum(),
        }
    }

    /// The files stored when the export is held, as (name, path).
    pub fn stored_files(&self) -> Vec<(String, PathBuf)> {
        match self {
            Export::Bundle { path, name, .. } => vec![(name.clone(), path.clone())],
            Export::Files { files, .. } => files.iter().map(|f| (file_name(f), f.clone())).collect(),
        }
    }

    /// Checks the bundle against its `.md5`. `Ok(false)` when there is no checksum to check.
    pub fn verify_checksum(&self) -> Result<bool, SourceError> {
        let Export::Bundle { path, md5: Some(expected), .. } = self else { return Ok(false) };
        let mut file = open(path)?;
        let mut hasher = Md5::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buffer).map_err(|source| io_error(path, source))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        let actual = hex::encode(hasher.finalize());
        if &actual != expected {
            return Err(SourceError::Checksum { expected: expected.clone(), actual });
        }
        Ok(true)
    }

    /// Calls `visit` with each XML file's name and content, in archive (or argument) order.
    /// `progress` receives the bytes read from disk so far.
    pub fn read_files<E>(
        &self,
        max_bytes: u64,
        progress: &(dyn Fn(u64) + Sync),
        mut visit: impl FnMut(&str, &mut dyn BufRead) -> Result<(), E>,
    ) -> Result<Result<(), E>, SourceError> {
        let budget = Budget { left: max_bytes, max: max_bytes };
        match self {
            Export::Files { files, .. } => {
                let mut done = 0;
                let mut budget = budget;
                for path in files {
                    let file = open(path)?;
                    let counted = Progress { inner: file, done, report: progress };
                    let mut reader = BufReader::with_capacity(1 << 16, Limited { inner: counted, budget: &mut budget });
                    if let Err(e) = visit(&file_name(path), &mut reader) {
                        return Ok(Err(e));
                    }
                    done = reader.get_ref().inner.done;
                    if reader.get_ref().budget.left == 0 {
                        return Err(SourceError::TooLarge(max_bytes));
                    }
                }
                Ok(Ok(()))
            }
            Export::Bundle { path, name: bundle, .. } => {
                // Named as delivered: an upload's temporary file name means nothing to the sender.
                let archive_error = |source| archive_error(bundle, source);
                let file = open(path)?;
                let mut counted = BufReader::new(Progress { inner: file, done: 0, report: progress });
                let gzip = counted.fill_buf().map_err(archive_error)?.starts_with(&[0x1f, 0x8b]);
                let decompressed: Box<dyn Read> =
                    if gzip { Box::new(MultiGzDecoder::new(counted)) } else { Box::new(counted) };
                let mut archive = tar::Archive::new(decompressed);
                let mut budget = budget;
                let mut seen = 0;
                let entries = archive.entries().map_err(archive_error)?;
                for entry in entries {
                    let entry = entry.map_err(archive_error)?;
                    let entry_path = entry.path().map_err(archive_error)?.into_owned();
                    let name = file_name(&entry_path);
                    // Directories, links and anything else than an XML file are skipped, never followed.
                    if !entry.header().entry_type().is_file() || !name.to_ascii_lowercase().ends_with(".xml") {
                        continue;
                    }
                    seen += 1;
                    let mut reader = BufReader::with_capacity(1 << 16, Limited { inner: entry, budget: &mut budget });
                    if let Err(e) = visit(&name, &mut reader) {
                        return Ok(Err(e));
                    }
                    // What the visitor left unread still counts against the budget.
                    io::copy(&mut reader, &mut io::sink()).map_err(archive_error)?;
                    if reader.get_ref().budget.left == 0 {
                        return Err(SourceError::TooLarge(max_bytes));
                    }
                }
                if seen == 0 {
                    return Err(SourceError::NoFiles);
                }
                Ok(Ok(()))
            }
        }
    }
}

/// Groups paths given to `sesame feed import` into exports: each archive is one export (with its
/// `.md5`), loose XML files form one export per ENT project and degree their names announce
/// (folders are read one level deep).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Export>, SourceError> {
    let mut bundles = Vec::new();
    let mut loose: Vec<PathBuf> = Vec::new();
    for path in paths {
        let candidates = if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|source| io_error(path, source))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            entries
        } else {
            vec![path.clone()]
        };
        for candidate in candidates {
            let name = file_name(&candidate).to_ascii_lowercase();
            if name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".tar") {
                bundles.push(Export::bundle(&candidate)?);
            } else if name.ends_with(".xml") {
                loose.push(candidate);
            } else if !path.is_dir() {
                return Err(SourceError::Io {
                    what: candidate.display().to_string(),
                    source: io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "expected a .tar.gz bundle, a .xml file or a folder",
                    ),
                });
            }
        }
    }
    // Loose files: one export per announced (ENT, stamp, degree); unnamed files together.
    let mut groups: Vec<(Option<String>, Vec<PathBuf>)> = Vec::new();
    for file in loose {
        let key = ExportName::parse(&file_name(&file)).map(|n| n.stem());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, files)) => files.push(file),
            None => groups.push((key, vec![file])),
        }
    }
    for (key, files) in groups {
        let name = match key {
            Some(stem) => format!("{stem} ({} XML files)", files.len()),
            None => format!("{} XML files", files.len()),
        };
        bundles.push(Export::Files { files, name });
    }
    Ok(bundles)
}

/// The `.md5` beside a bundle: `x.tar.gz` → `x.md5` (the GAR convention), else `x.tar.gz.md5`.
pub fn sibling_md5(bundle: &Path) -> PathBuf {
    let name = file_name(bundle);
    let stem = name.strip_suffix(".tar.gz").or_else(|| name.strip_suffix(".tgz")).or_else(|| name.strip_suffix(".tar"));
    let conventional = bundle.with_file_name(format!("{}.md5", stem.unwrap_or(&name)));
    if conventional.exists() { conventional } else { bundle.with_file_name(format!("{name}.md5")) }
}

/// The hex MD5 of a `.md5` file: lower-case hex alone, or `md5sum` output (`hex  name`).
pub fn parse_md5(text: &str) -> Result<String, SourceError> {
    let hex = text.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex)
    } else {
        Err(SourceError::BadChecksumFile)
    }
}

pub fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn open(path: &Path) -> Result<File, SourceError> {
    File::open(path).map_err(|source| io_error(path, source))
}

fn io_error(path: &Path, source: io::Error) -> SourceError {
    SourceError::Io { what: path.display().to_string(), source }
}

fn archive_error(name: &str, source: io::Error) -> SourceError {
    SourceError::Io { what: format!("archive {name}"), source }
}

/// Reports bytes read from disk.
struct Progress<'a, R> {
    inner: R,
    done: u64,
    report: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        (self.report)(self.done);
        Ok(n)
    }
}

/// What may still be decompressed.
struct Budget {
    left: u64,
    max: u64,
}

/// Fails once the export's decompressed bytes pass the budget.
struct Limited<'a, R> {
    inner: R,
    budget: &'a mut Budget,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.budget.left.checked_sub(n as u64) {
            Some(left) => {
                self.budget.left = left;
                Ok(n)
            }
            None => {
                self.budget.left = 0;
                Err(io::Error::new(io::ErrorKind::InvalidData, SourceError::TooLarge(self.budget.max)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names() {
        let name = ExportName::parse("Z0_GAR-ENT_Complet_20261125_210000_2D.tar.gz").unwrap();
        assert_eq!((name.ent_id.as_str(), name.stamp.as_str(), name.degree), ("Z0", "20261125_210000", Degree::Second));
        assert_eq!(name.stem(), "Z0_GAR-ENT_Complet_20261125_210000_2D");
        let file = ExportName::parse("ENTTEST1_GAR-ENT_Complet_20261125_210000_1D_Eleve_0003.xml").unwrap();
        assert_eq!((file.ent_id.as_str(), file.degree), ("ENTTEST1", Degree::First));
        for bad in
            ["Z0_GAR-ENT_Delta_20261125_210000_2D.tar.gz", "Z0_GAR-ENT_Complet_2026112_210000_2D.tar.gz", "x.tar.gz"]
        {
            assert!(ExportName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn md5_files() {
        assert_eq!(parse_md5("D41D8CD98F00B204E9800998ECF8427E\n").unwrap(), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(parse_md5("d41d8cd98f00b204e9800998ecf8427e  x.tar.gz").is_ok());
        assert!(parse_md5("nope").is_err());
    }
}
