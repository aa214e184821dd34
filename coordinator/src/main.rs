//! `notary-coordinator`: parse options, set up logging, bind, run.

use clap::Parser;
use notary_coordinator::{run, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `NOTARY_LOG_FORMAT=json`: one JSON object per line (job_id and the other fields as
    // keys) for log collectors; otherwise human-readable text.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    if std::env::var("NOTARY_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    // `notary-coordinator contracts …` (issue 5): chain chores, not the server.
    if std::env::args().nth(1).as_deref() == Some("contracts") {
        let cli =
            notary_coordinator::chain::cli::ContractsCli::parse_from(std::env::args().skip(1));
        println!("{}", notary_coordinator::chain::cli::run(cli).await?);
        return Ok(());
    }
    // `notary-coordinator workers list|unsuspend 0x…` (issue 11): the worker book.
    if std::env::args().nth(1).as_deref() == Some("workers") {
        let cli =
            notary_coordinator::workers::cli::WorkersCli::parse_from(std::env::args().skip(1));
        println!("{}", notary_coordinator::workers::cli::run(cli).await?);
        return Ok(());
    }
    let config = Settings::parse().with_file()?.resolve()?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    run(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
