//! `sesame fixtures`: GAR-ENT exports to import, from the demo académie or a synthetic one of
//! any size (schema-valid against GAR-ENT.xsd and GAR-ENT-1D.xsd).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::demo::{self, Fixtures, Scale};
use crate::domain::directory::{Degree, Directory, PersonSource};
use crate::feed::source::ExportName;
use crate::feed::writer::{ExportWriter, Written};

#[derive(Subcommand)]
pub(super) enum FixturesCommand {
    /// Write a synthetic académie as GAR-ENT exports (one per degree).
    Generate(Generate),
    /// Write the demo académie (`sesame demo`) as GAR-ENT exports.
    Demo(Output),
}

#[derive(Args)]
pub(super) struct Generate {
    /// ENT project id (idENT).
    #[arg(long)]
    ent: String,
    /// Schools: four écoles, three collèges, two lycées and a lycée professionnel in every ten.
    #[arg(long)]
    establishments: u32,
    /// Persons in all (pupils and staff), approximately.
    #[arg(long)]
    persons: u64,
    /// First three digits of the UAIs.
    #[arg(long, default_value_t = 97)]
    department: u16,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

#[derive(Args)]
pub(super) struct Output {
    /// Folder to write into.
    #[arg(long)]
    out: PathBuf,
    /// `yyyyMMdd_HHmmss` of the export names; default: now.
    #[arg(long)]
    stamp: Option<String>,
    /// A `.tar.gz` bundle with its `.md5` per export, or loose XML files.
    #[arg(long, value_enum, default_value_t = Format::Bundle)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Bundle,
    Xml,
}

impl FixturesCommand {
    pub(super) fn run(self) -> anyhow::Result<()> {
        match self {
            FixturesCommand::Generate(args) => generate(args),
            FixturesCommand::Demo(output) => {
                let fixtures = Fixtures::embedded()?;
                let stamp = stamp(&output);
                for dir in demo::generate(&fixtures.settings, fixtures.settings.seed) {
                    for degree in [Degree::Second, Degree::First] {
                        let part = dir.of_degree(degree);
                        if part.establishments.is_empty() {
                            continue;
                        }
                        let mut writer = Writers::new(&output, &dir.ent_id, &stamp)?;
                        writer.write(degree, &part)?;
                        writer.finish()?;
                    }
                }
                Ok(())
            }
        }
    }
}

fn stamp(output: &Output) -> String {
    output.stamp.clone().unwrap_or_else(|| chrono::Utc::now().format("%Y%m%d_%H%M%S").to_string())
}

fn generate(args: Generate) -> anyhow::Result<()> {
    let scale = Scale {
        ent: args.ent.clone(),
        establishments: args.establishments,
        persons: args.persons,
        department: args.department,
        seed: args.seed,
    };
    let settings = demo::scaled(&scale)?;
    let started = Instant::now();
    let bar = ProgressBar::new(u64::from(args.establishments));
    bar.set_style(
        ProgressStyle::with_template("generating [{bar:40}] {pos}/{len} establishments, eta {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut writers = Writers::new(&args.output, &args.ent, &stamp(&args.output))?;
    let (mut pupils, mut staff) = (0usize, 0usize);
    let mut failure = None;
    demo::generate_each_establishment(&settings, args.seed, |dir| {
        if failure.is_some() {
            return;
        }
        pupils += dir.persons.iter().filter(|p| p.source == PersonSource::Pupil).count();
        staff += dir.persons.iter().filter(|p| p.source == PersonSource::Staff).count();
        let degree = dir.establishments.first().map_or(Degree::Second, |e| e.degree);
        if let Err(e) = writers.write(degree, &dir) {
            failure = Some(e);
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    writers.finish()?;
    println!(
        "{} establishments, {} persons ({pupils} pupils, {staff} staff) in {:.1} s",
        args.establishments,
        pupils + staff,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One writer per degree, opened on first use.
struct Writers<'a> {
    output: &'a Output,
    ent: String,
    stamp: String,
    open: Vec<(Degree, ExportWriter)>,
}

impl<'a> Writers<'a> {
    fn new(output: &'a Output, ent: &str, stamp: &str) -> anyhow::Result<Self> {
        let valid = stamp.len() == 15 && chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S").is_ok();
        if !valid {
            anyhow::bail!("--stamp `{stamp}` is not yyyyMMdd_HHmmss");
        }
        Ok(Self { output, ent: ent.to_owned(), stamp: stamp.to_owned(), open: Vec::new() })
    }

    fn write(&mut self, degree: Degree, dir: &Directory) -> anyhow::Result<()> {
        if !self.open.iter().any(|(d, _)| *d == degree) {
            let name = ExportName { ent_id: self.ent.clone(), stamp: self.stamp.clone(), degree };
            let writer = match self.output.format {
                Format::Bundle => ExportWriter::bundle(&self.output.out, name)?,
                Format::Xml => ExportWriter::folder(&self.output.out, name)?,
            };
            self.open.push((degree, writer));
        }
        let (_, writer) = self.open.iter_mut().find(|(d, _)| *d == degree).expect("opened above");
        writer.write(dir)?;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        for (degree, writer) in self.open {
            let written = writer.finish()?;
            describe(degree, &written);
        }
        Ok(())
    }
}

fn describe(degree: Degree, written: &Written) {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    match &written.md5 {
        Some(md5) => {
            let archive = &written.paths[0];
            println!(
                "degree {degree}: {} ({} XML files, {} bytes) and {}",
                archive.display(),
                written.xml_files,
                size(archive),
                md5.display()
            );
        }
        None => {
            let bytes: u64 = written.paths.iter().map(|p| size(p)).sum();
            let folder = written.paths.first().and_then(|p| p.parent()).map(|p| p.display().to_string());
            println!(
                "degree {degree}: {} XML files ({bytes} bytes) in {}",
                written.xml_files,
                folder.unwrap_or_default()
            );
        }
    }
}
