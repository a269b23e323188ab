//! The command line: the only module that knows clap. [`args`] holds the
//! argument types; each subcommand here is a thin adapter that calls one
//! function of the application layer ([`crate::app`]) or the queries, prints
//! the result through [`crate::render`], and returns an [`ExitCode`] that
//! `main` maps to the process's.
//!
//! Exit codes: 0 done; 1 done with findings (a GSTIN needs login, a verify
//! finding); 2 could not run (bad input, unreadable config, archive error, a
//! capture whose checkpoint could not be signed).

pub mod args;
mod demo;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};

pub use args::Cli;
use args::*;

use crate::app;
use crate::app::capture::{Checkpointed, Mode};
use crate::capture::Progress;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{self, Config, LogFormat};
use crate::render::table::{Format, Table};
use crate::store::{format_time, Reader};

/// Process exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Findings = 1,
    CouldNotRun = 2,
}

impl ExitCode {
    /// The exit code for a command that stopped with `error`: 1
    /// ([`ExitCode::Findings`]) when it stopped because stored evidence is
    /// damaged (it refused to serve, sign over or export it), else 2.
    pub fn for_error(error: &anyhow::Error) -> ExitCode {
        let damage = error.chain().any(|cause| {
            cause
                .downcast_ref::<app::AppError>()
                .is_some_and(app::AppError::is_damage)
                || cause
                    .downcast_ref::<crate::store::StoreError>()
                    .is_some_and(crate::store::StoreError::is_damage)
                || cause
                    .downcast_ref::<crate::query::QueryError>()
                    .is_some_and(crate::query::QueryError::is_damage)
        });
        if damage {
            ExitCode::Findings
        } else {
            ExitCode::CouldNotRun
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Config(ConfigCommand::Init { force }) => config_init(&cli.config, force),
        Command::Config(ConfigCommand::Check) => config_check(&cli.config),
        Command::Config(ConfigCommand::Show) => {
            let config = Config::load(&cli.config)?;
            print!("{}", config.show());
            Ok(ExitCode::Ok)
        }
        Command::Login(args) => login(&cli.config, args).await,
        Command::Snapshot(args) => snapshot(&cli.config, args).await,
        Command::Simulate(args) => simulate(args).await,
        Command::Demo(args) => {
            demo::run(args.dir).await?;
            Ok(ExitCode::Ok)
        }
        Command::Keygen => keygen(&cli.config),
        Command::Export(args) => export(&cli.config, args),
        Command::Verify(args) => verify(&cli.config, args),
        Command::Bundles(args) => {
            let config = Config::load(&cli.config)?;
            let chain = app::bundles::chain(&config, args.gstin.as_deref(), args.dir.as_deref())?;
            print!("{}", crate::render::bundles(&chain));
            Ok(if chain.intact() {
                ExitCode::Ok
            } else {
                ExitCode::Findings
            })
        }
        Command::Daemon => daemon(&cli.config).await,
        Command::Status => status(&cli.config),
        Command::Plan(args) => plan(&cli.config, args),
        Command::List(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let rows = crate::query::list(
                &store,
                &crate::query::ListArgs {
                    gstin: args.gstin,
                    endpoint: args.endpoint,
                    group: args.group,
                    period: args.period,
                    from: args.from,
                    to: args.to,
                    since: args.since,
                    limit: args.limit,
                },
            )?;
            if args.limit > 0 && rows.len() as u64 == args.limit {
                eprintln!(
                    "note: --limit {} reached; more rows may match: narrow the filters or raise --limit (0: all)",
                    args.limit
                );
            }
            print_table(
                &crate::render::query::list_table(&rows),
                &args.output,
                "no snapshots match",
            )
        }
        Command::Show(args) => {
            let store = open_for_query(&cli.config, &args.archive)?;
            let query = crate::query::ShowArgs {
                id: args.id,
                key: args.key.args(),
                as_of: args.as_of,
            };
            let shown = crate::query::show(&store, &query, Utc::now())?;
            eprintln!("{}", crate::render::query::describe_shown(&shown));
            match (&shown.body, args.raw) {
                (None, _) => bail!(
                    "snapshot {}: {} without a body: no bytes were received",
                    shown.row.seq,
                    shown.row.outcome
                ),
                (Some(body), true) => std::io::stdout().write_all(body)?,
                (Some(_), false) => print!("{}", crate::render::query::pretty_body(&shown).unwrap_or_default()),
            }
            Ok(ExitCode::Ok)
        }
        Command::Diff(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::DiffArgs {
                ids: args.ids,
                key: args.key.args(),
                at: args.at,
            };
            let diffed = crate::query::diff(&store, &query, Utc::now())?;
            if format_of(&args.output) == Format::Human {
                println!("{}", crate::render::query::describe_diff(&diffed));
            }
            print_table(
                &crate::render::query::diff_table(&diffed),
                &args.output,
                "no difference",
            )
        }
        Command::Changes(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::ChangesArgs {
                gstin: args.gstin,
                since: args.since,
                retroactive: args.retroactive,
                limit: args.limit,
            };
            let rows = crate::query::changes(&store, &query)?;
            print_table(
                &crate::render::query::changes_table(&rows),
                &args.output,
                "no changes match",
            )
        }
        Command::Balances(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::BalancesArgs {
                gstin: args.gstin,
                fy: args.fy,
                as_of: args.as_of,
            };
            let rows = crate::query::balances(&store, &query, Utc::now())?;
            print_table(
                &crate::render::query::balances_table(&rows),
                &args.output,
                "no ledger or GSTR-3B snapshots match",
            )
        }
    }
}

/// Opens the archive read-only: `--archive`, else the config's archive path.
fn open_for_query(config_path: &Path, archive: &Option<PathBuf>) -> Result<Reader> {
    let path = match archive {
        Some(path) => path.clone(),
        None => Config::load(config_path)?.archive_path,
    };
    Ok(Reader::open(&path)?)
}

fn format_of(output: &QueryOutput) -> Format {
    if output.json {
        Format::Json
    } else if output.csv {
        Format::Csv
    } else {
        Format::Human
    }
}

/// Prints a query's rows; an empty human result says `empty` (JSON `[]`, CSV the header).
fn print_table(table: &Table, output: &QueryOutput, empty: &str) -> Result<ExitCode> {
    let format = format_of(output);
    if table.is_empty() && format == Format::Human {
        println!("{empty}");
    } else {
        print!("{}", table.render(format));
    }
    Ok(ExitCode::Ok)
}

fn keygen(config_path: &Path) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let info = app::keys::keygen(&config)?;
    println!(
        "secret key: {} (owner-only{})",
        config.signing_key.display(),
        if config.key_password().is_some() {
            ", password-protected"
        } else {
            ", no password"
        }
    );
    println!("public key: {}", config.public_key.display());
    print!("{}", info.public_key_text);
    println!("key ID:      {}", info.key_id);
    println!("fingerprint: {}", info.fingerprint);
    println!("Give the public key and fingerprint to your auditors through a channel they trust.");
    Ok(ExitCode::Ok)
}

fn export(config_path: &Path, args: ExportArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let selection = app::export::Selection {
        gstin: args.gstin,
        month: args.month,
        fy: args.fy,
        as_of: args.as_of,
        out: args.out,
    };
    let exported = app::export::export_once(&config, &selection, Utc::now())?;
    print!("{}", crate::render::exported(&exported));
    Ok(ExitCode::Ok)
}

fn verify(config_path: &Path, args: VerifyArgs) -> Result<ExitCode> {
    let report = if args.archive {
        let config = Config::load(config_path)?;
        app::verify::verify_archive(&config, args.pubkey.as_deref())?
    } else {
        let bundle = args.bundle.as_ref().context("give a bundle, or --archive")?;
        app::verify::verify_bundle(bundle, args.pubkey.as_deref(), args.previous.as_deref())?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", crate::render::verify_report(&report));
    }
    Ok(if report.intact() {
        ExitCode::Ok
    } else {
        ExitCode::Findings
    })
}

fn config_init(path: &Path, force: bool) -> Result<ExitCode> {
    if path.exists() && !force {
        bail!("config {}: already exists (use --force to overwrite)", path.display());
    }
    std::fs::write(path, config::EXAMPLE).with_context(|| format!("config {}: cannot write", path.display()))?;
    println!(
        "wrote {} (edit [[gstin]] and [api], then `gstvault config check`)",
        path.display()
    );
    Ok(ExitCode::Ok)
}

fn config_check(path: &Path) -> Result<ExitCode> {
    let config = Config::load(path)?;
    print!("{}", crate::render::config_check(&config, Utc::now()));
    match config.credentials() {
        Ok(_) => println!(
            "credentials: {} and {} are set",
            config.api.key_env, config.api.secret_env
        ),
        Err(e) => println!("warning: {e}"),
    }
    Ok(ExitCode::Ok)
}

async fn login(config_path: &Path, args: LoginArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let entry = app::configured_gstin(&config, &args.gstin)?;
    let gstin = entry.gstin.clone();
    let clock: SharedClock = Arc::new(SystemClock);
    let client = app::capture::client(&config, config.credentials()?, clock.clone())?;
    let otp = match &args.otp {
        Some(otp) => {
            app::login::check_otp(otp)?;
            Some(otp.clone())
        }
        None if args.request_only || std::io::stdin().is_terminal() => None,
        None => bail!("login {gstin}: stdin is not a terminal: pass the OTP with --otp"),
    };
    if !args.no_request {
        app::login::request_otp(&client, &entry).await?;
        eprintln!("OTP sent for {gstin} (user {})", entry.username);
    }
    if args.request_only {
        println!("OTP requested; verify with: gstvault login {gstin} --otp NNNNNN --no-request");
        return Ok(ExitCode::Ok);
    }
    let otp = match otp {
        Some(otp) => otp,
        None => {
            eprint!("OTP for {gstin}: ");
            std::io::stderr().flush().ok();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim().to_string()
        }
    };
    let session = app::login::verify_otp(&config, &client, &entry, &otp, clock.now()).await?;
    println!(
        "logged in {gstin}: access token valid until {}, API access until {}",
        crate::render::ist_text(session.expires_at()),
        crate::render::ist_text(session.session_expiry)
    );
    Ok(ExitCode::Ok)
}

/// A terminal progress bar over a capture's calls.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn planned(&self, jobs: u64) {
        self.0.set_length(jobs);
    }
    fn finished_job(&self) {
        self.0.inc(1);
    }
}

fn selection(args: &SnapshotArgs) -> app::capture::Selection {
    app::capture::Selection {
        gstins: args.gstin.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        endpoints: args.endpoint.clone(),
        groups: args.group.clone(),
    }
}

async fn snapshot(config_path: &Path, args: SnapshotArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let clock: SharedClock = Arc::new(SystemClock);
    let plan = app::capture::plan(&config, &selection(&args), clock.now(), "snapshot")?;
    let credentials = config.credentials()?;
    let progress: Option<Arc<dyn Progress>> = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} requests  {elapsed} (eta {eta})")
                .expect("static template"),
        );
        Arc::new(Bar(bar)) as Arc<dyn Progress>
    });
    let mode = Mode::chosen(&config, args.planned, args.full);
    let captured = app::capture::capture_once(&config, credentials, clock, &plan, mode, progress).await?;
    print!("{}", crate::render::captured(&captured));
    println!("archive: {}", config.archive_path.display());
    Ok(if matches!(captured.checkpoint, Checkpointed::Failed { .. }) {
        ExitCode::CouldNotRun
    } else if captured.totals.needs_login.is_empty() && captured.damage().is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::Findings
    })
}

async fn simulate(args: SimulateArgs) -> Result<ExitCode> {
    crate::logging::init(LogFormat::Human, "info");
    let start = match &args.start {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .with_context(|| format!("--start {text:?}: not an RFC 3339 instant"))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("--listen {}: cannot bind", args.listen))?;
    let addr = listener.local_addr()?;
    let sim = crate::sim::Simulator::new(crate::sim::SimConfig::new(args.seed, start));
    println!(
        "simulator listening on http://{addr} (seed {}, clock {}), test OTP {}",
        args.seed,
        format_time(start),
        crate::sim::TEST_OTP
    );
    println!(
        "demo GSTINs: {}",
        crate::sim::demo_gstins()
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    sim.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::Ok)
}

async fn daemon(config_path: &Path) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let credentials = config.credentials()?;
    let daemon = crate::daemon::Daemon::new(config, credentials, Arc::new(SystemClock))?;
    daemon.serve(crate::daemon::termination_signal()).await?;
    Ok(ExitCode::Ok)
}

fn status(config_path: &Path) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let status = app::status::status(&config, Utc::now())?;
    print!("{}", crate::render::status(&status));
    Ok(if status.needs_login() {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}

fn plan(config_path: &Path, args: PlanArgs) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    let selection = app::capture::Selection {
        gstins: args.gstin.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        ..Default::default()
    };
    let report = app::plan::plan(&config, &selection, Utc::now())?;
    print!("{}", crate::render::plan(&report, args.calls));
    Ok(ExitCode::Ok)
}
