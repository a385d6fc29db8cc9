//! The `sesame` command.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    sesame::cli::Cli::parse().run()
}
