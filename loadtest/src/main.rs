//! `notary-loadtest`: parse flags, run, print the table, write the JSON report and the chart.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use notary_loadtest::{run, svg, Args, Error};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match main_inner(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notary-loadtest: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

async fn main_inner(args: Args) -> Result<(), Error> {
    let (report_path, svg_path) = (args.report.clone(), args.svg.clone());
    let config = args.into_config(std::io::stderr().is_terminal())?;
    let report = run(&config, async {
        // Ctrl-C: start no new job, finish and report the ones in flight.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await?;
    print!("{}", report.to_table());
    if let Some(path) = report_path {
        std::fs::write(&path, report.to_json()? + "\n")?;
        eprintln!("report written to {}", path.display());
    }
    if let Some(path) = svg_path {
        std::fs::write(&path, svg::render(&report))?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}
