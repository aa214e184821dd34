//! `notary-pack`: build a package from a guest program, or publish one.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use notary_pack::{build_package, publish, read_package, write_package, PackOptions};
use notary_profile::ValidationLimits;

/// Package guest programs for Notary and publish them to a coordinator's module registry.
#[derive(Parser, Debug)]
#[command(name = "notary-pack", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validates a .js, .wat or .wasm file and writes a package (manifest + module).
    Build {
        /// The program.
        file: PathBuf,
        /// Where to write the package (JSON).
        #[arg(long)]
        out: PathBuf,
        /// Module name (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// Version (default 0.1.0).
        #[arg(long = "module-version")]
        version: Option<String>,
        /// What the module does.
        #[arg(long, default_value = "")]
        description: String,
        /// What it was written in (c, assemblyscript, rust, ...).
        #[arg(long)]
        source_language: Option<String>,
        /// Default fuel budget of its jobs.
        #[arg(long)]
        fuel: Option<u64>,
        /// What it expects as inputData.
        #[arg(long, default_value = "")]
        input: String,
        /// What it prints.
        #[arg(long, default_value = "")]
        output: String,
    },
    /// Uploads a package and prints its module hash.
    Publish {
        /// Coordinator URL, e.g. http://127.0.0.1:8402.
        #[arg(long, env = "NOTARY_URL")]
        url: String,
        /// The package file.
        package: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Build {
            file,
            out,
            name,
            version,
            description,
            source_language,
            fuel,
            input,
            output,
        } => {
            let options = PackOptions {
                name,
                version,
                description,
                source_language,
                fuel,
                input,
                output,
            };
            let package = build_package(&file, &options, &ValidationLimits::default())?;
            write_package(&package, &out)?;
            println!("{}", package.manifest.sha256);
            Ok(())
        }
        Command::Publish { url, package } => {
            let package = read_package(&package)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let hash = runtime.block_on(publish(&url, &package))?;
            println!("{hash}");
            Ok(())
        }
    }
}
