//! Builds the load benchmark's académie (see `scripts/bench-mediacentre`): about `--persons`
//! persons over `--ents` ENT projects, from the demo's schools, subscriptions and assignments;
//! then writes one `ENT UAI GARPersonIdentifiant` line per person and school to `--users`.
//!
//! `cargo run --release --example bench_academie -- --database sqlite:///tmp/bench.sqlite3 --persons 1000000 --users /tmp/users.txt`

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use diesel::prelude::*;
use sesame::demo::load_scaled::{ScalePlan, load_scaled};
use sesame::domain::pseudonym::Pseudonyms;
use sesame::store::schema::{person_establishments, persons};
use sesame::store::{self, DatabaseUrl};

#[derive(Parser)]
struct Args {
    /// sqlite://PATH or postgres://…, an empty database.
    #[arg(long)]
    database: String,
    #[arg(long, default_value_t = 1_000_000)]
    persons: usize,
    #[arg(long, default_value_t = 20)]
    ents: usize,
    /// Where to write the users the load generator picks from.
    #[arg(long)]
    users: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = DatabaseUrl::parse(&args.database).map_err(anyhow::Error::msg)?;
    let mut conn = url.connect()?;
    store::run_migrations(&mut conn)?;
    let plan = ScalePlan::for_persons(args.persons, args.ents);
    eprintln!("{url}: {} ENT projects × {} copies of the demo schools", plan.ent_projects, plan.copies_per_ent);
    let started = Instant::now();
    let (mut persons_total, mut done) = (0, 0);
    let loaded = load_scaled(&mut conn, plan, &Pseudonyms::new(b"bench"), &mut |ent| {
        done += 1;
        persons_total += ent.persons;
        eprintln!(
            "[{done}/{}] {}: {} schools, {} persons, {} subscriptions, {} seats in {:.1}s ({persons_total} persons so far)",
            plan.ent_projects, ent.ent_id, ent.schools, ent.persons, ent.subscriptions, ent.seats, ent.seconds
        );
    })?;
    let rows: Vec<(String, String, String)> = persons::table
        .inner_join(person_establishments::table)
        .select((persons::ent_id, person_establishments::uai, persons::gar_id))
        .load(&mut conn)?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.users)?);
    for (ent, uai, gar_id) in &rows {
        writeln!(out, "{ent} {uai} {gar_id}")?;
    }
    out.flush()?;
    let persons: usize = loaded.iter().map(|e| e.persons).sum();
    let seats: usize = loaded.iter().map(|e| e.seats).sum();
    println!(
        "loaded {persons} persons, {seats} seats in {:.0}s; {} user lines in {}",
        started.elapsed().as_secs_f64(),
        rows.len(),
        args.users.display()
    );
    Ok(())
}
