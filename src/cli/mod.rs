//! The command line: the only module that knows clap. [`args`] holds the
//! argument types; each subcommand here is a thin adapter that calls one
//! function of the application layer ([`crate::app`]) or the queries, prints
//! the result through [`crate::render`], and returns an [`ExitCode`] that
//! `main` maps to the process's.
//!
//! Exit codes ([`ExitCode`]): 0 done; 1 done with findings (a GSTIN needs
//! login, a verify finding, damage); 2 could not run (bad input, unreadable
//! config, archive error, a capture whose checkpoint could not be signed); 3
//! a capture that did not get everything (calls failed, or interrupted).

/// `print!` to stdout, where a closed pipe (`gstvault list | head -1`) ends
/// the process quietly (see [`write_stdout`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

/// `println!` to stdout, where a closed pipe ends the process quietly.
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

pub mod args;
mod demo;
pub mod progress;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};

pub use args::Cli;
use args::*;

use crate::app;
use crate::app::capture::{Captured, Checkpointed, Mode};
use crate::capture::Progress;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{self, Config, LogFormat};
use crate::render::table::{Format, Table};
use crate::store::Reader;

/// Process exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Done, nothing to report.
    Ok = 0,
    /// Done with findings a person must act on: a GSTIN needs login, a
    /// verification finding, damaged evidence found or refused.
    Findings = 1,
    /// Could not run: bad input, an unreadable config, an archive error, a
    /// capture whose checkpoint could not be signed.
    CouldNotRun = 2,
    /// A capture that did not get everything: some calls' final outcome was
    /// a failure (their causes are in the summary), or it was interrupted.
    Incomplete = 3,
    /// Stopped at once by a second SIGINT/SIGTERM (128 + SIGINT, as shells do).
    Interrupted = 130,
}

impl ExitCode {
    /// The exit code of a finished capture: 2 when its checkpoint could
    /// not be signed, 1 when a GSTIN needs login or damage was found, 3 when
    /// calls failed or the run was interrupted, else 0.
    pub fn of_capture(captured: &Captured) -> ExitCode {
        if matches!(captured.checkpoint, Checkpointed::Failed { .. }) {
            ExitCode::CouldNotRun
        } else if !captured.totals.needs_login.is_empty() || !captured.damage().is_empty() {
            ExitCode::Findings
        } else if captured.totals.failed() > 0 || captured.totals.status == crate::domain::run::RunStatus::Interrupted {
            ExitCode::Incomplete
        } else {
            ExitCode::Ok
        }
    }

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

/// Writes a result to stdout. When the reader has gone (a pipe into `head`
/// closed early) the process ends quietly with 0: what was asked for was
/// written until nobody read it. Any other write error ends it with 2.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let written = std::io::stdout().lock().write_fmt(args);
    stdout_written(written);
}

/// [`write_stdout`] for raw bytes (`show --raw`).
pub fn write_stdout_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let written = out.write_all(bytes).and_then(|()| out.flush());
    stdout_written(written);
}

fn stdout_written(written: std::io::Result<()>) {
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(ExitCode::Ok as i32),
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(ExitCode::CouldNotRun as i32)
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Config(ConfigCommand::Init { force }) => config_init(&cli.config, force),
        Command::Config(ConfigCommand::Check { online }) => config_check(&cli.config, online).await,
        Command::Config(ConfigCommand::Show) => {
            let config = load_config(&cli.config)?;
            out!("{}", config.show());
            Ok(ExitCode::Ok)
        }
        Command::Login(args) => login(&cli.config, args).await,
        Command::Snapshot(args) => snapshot(&cli.config, args).await,
        Command::Simulate(args) => simulate(args).await,
        Command::Demo(args) => {
            demo::run(args.dir, args.web).await?;
            Ok(ExitCode::Ok)
        }
        Command::Keygen => keygen(&cli.config),
        Command::Export(args) => export(&cli.config, args),
        Command::Verify(args) => verify(&cli.config, args),
        Command::Bundles(args) => {
            let config = load_config(&cli.config)?;
            let chain = app::bundles::chain(&config, args.gstin.as_deref(), args.dir.as_deref())?;
            out!("{}", crate::render::bundles(&chain));
            Ok(if chain.intact() {
                ExitCode::Ok
            } else {
                ExitCode::Findings
            })
        }
        Command::Daemon => daemon(&cli.config).await,
        Command::Serve(args) => serve(&cli.config, args).await,
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
                    run: args.run,
                    failed: args.failed,
                    now: Some(Utc::now()),
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
                (Some(body), true) => write_stdout_bytes(body),
                (Some(_), false) => out!("{}", crate::render::query::pretty_body(&shown).unwrap_or_default()),
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
                outln!("{}", crate::render::query::describe_diff(&diffed));
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
                now: Some(Utc::now()),
                endpoint: args.endpoint,
                group: args.group,
                kind: args.kind,
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
                month: args.month,
                as_of: args.as_of,
            };
            let rows = crate::query::balances(&store, &query, Utc::now())?;
            print_table(
                &crate::render::query::balances_table(&rows),
                &args.output,
                "no ledger or GSTR-3B snapshots match",
            )
        }
        Command::Liability(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::liability::LiabilityArgs {
                gstin: args.gstin,
                month: args.month,
                fy: args.fy,
                as_of: args.as_of,
            };
            let rows = crate::query::liability::liability(&store, &query, Utc::now())?;
            print_table(
                &crate::render::query::liability_table(&rows),
                &args.output,
                "no GSTR-3B or auto-liability snapshots match",
            )
        }
        Command::Itc(args) => {
            let store = open_for_query(&cli.config, &args.output.archive)?;
            let query = crate::query::ItcArgs {
                gstin: args.gstin,
                month: args.month,
                as_of: args.as_of,
                against: args.against,
            };
            let rows = crate::query::itc(&store, &query, Utc::now())?;
            print_table(
                &crate::render::query::itc_table(&rows),
                &args.output,
                "no GSTR-2B snapshot of that month archived at that instant",
            )
        }
        Command::User(command) => user(&cli.config, command),
    }
}

/// Loads the config and shows times in its display zone from here on.
fn load_config(path: &Path) -> Result<Config> {
    let config = Config::load(path)?;
    crate::domain::time::Zone::set_display(config.display_zone);
    Ok(config)
}

/// Opens the archive read-only: `--archive`, else the config's archive path.
fn open_for_query(config_path: &Path, archive: &Option<PathBuf>) -> Result<Reader> {
    let path = match archive {
        Some(path) => path.clone(),
        None => load_config(config_path)?.archive_path,
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
        outln!("{empty}");
    } else {
        out!("{}", table.render(format));
    }
    Ok(ExitCode::Ok)
}

fn keygen(config_path: &Path) -> Result<ExitCode> {
    let config = load_config(config_path)?;
    let info = app::keys::keygen(&config)?;
    outln!(
        "secret key: {} (owner-only{})",
        config.signing_key.display(),
        if config.key_password().is_some() {
            ", password-protected"
        } else {
            ", no password"
        }
    );
    outln!("public key: {}", config.public_key.display());
    out!("{}", info.public_key_text);
    outln!("key ID:      {}", info.key_id);
    outln!("fingerprint: {}", info.fingerprint);
    outln!("Give the public key and fingerprint to your auditors through a channel they trust.");
    Ok(ExitCode::Ok)
}

fn export(config_path: &Path, args: ExportArgs) -> Result<ExitCode> {
    let config = load_config(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let selection = app::export::Selection {
        gstin: args.gstin,
        month: args.month,
        fy: args.fy,
        as_of: args.as_of,
        out: args.out,
    };
    let exported = app::export::export_once(&config, &selection, Utc::now())?;
    out!("{}", crate::render::exported(&exported));
    Ok(ExitCode::Ok)
}

fn verify(config_path: &Path, args: VerifyArgs) -> Result<ExitCode> {
    let report = if args.archive {
        let config = load_config(config_path)?;
        app::verify::verify_archive(&config, args.pubkey.as_deref())?
    } else {
        let bundle = args.bundle.as_ref().context("give a bundle, or --archive")?;
        app::verify::verify_bundle(bundle, args.pubkey.as_deref(), args.previous.as_deref())?
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out!("{}", crate::render::verify_report(&report));
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
    outln!(
        "wrote {} (edit [[gstin]] and [api], then `gstvault config check`)",
        path.display()
    );
    Ok(ExitCode::Ok)
}

/// `config check`: the config's validity and what it captures, then every
/// placeholder and every unset environment variable (exit 1 when there are
/// any); `--online` also reaches the API and reports each GSTIN's session.
async fn config_check(path: &Path, online: bool) -> Result<ExitCode> {
    let config = load_config(path)?;
    out!("{}", crate::render::config_check(&config, Utc::now()));
    let placeholders = config.placeholders();
    for line in &placeholders {
        outln!("warning: {line}");
    }
    let missing = config.missing_env();
    for (key, var) in &missing {
        outln!("warning: {var} ({key}) is not set");
    }
    if missing.is_empty() {
        outln!(
            "environment: {} and {} are set",
            config.api.key_env,
            config.api.secret_env
        );
    }
    let mut findings = !placeholders.is_empty() || !missing.is_empty();
    if let Err(e) = config.smtp_password() {
        outln!("warning: {e}");
        findings = true;
    }
    match app::keys::signing_key(&config) {
        Ok(Some(_)) => outln!("signing key: {} loads", config.signing_key.display()),
        Ok(None) => outln!(
            "signing key: none at {} yet: run `gstvault keygen` (checkpoints are not signed until then)",
            config.signing_key.display()
        ),
        Err(e) => {
            outln!("warning: signing key: {e}");
            findings = true;
        }
    }
    if online {
        match config.credentials() {
            Ok(credentials) => {
                let now = Utc::now();
                let online = app::status::check_online(&config, credentials, Arc::new(SystemClock), now).await?;
                out!("{}", crate::render::online_check(&online));
                findings |= !online.ok();
            }
            Err(_) => {
                outln!("api: not reached: set the environment variables above first");
                findings = true;
            }
        }
    }
    Ok(if findings { ExitCode::Findings } else { ExitCode::Ok })
}

async fn login(config_path: &Path, args: LoginArgs) -> Result<ExitCode> {
    let config = load_config(config_path)?;
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
        None => bail!(
            "login {gstin}: stdin is not a terminal, so the OTP cannot be typed: log in in two steps, \
             `gstvault login {gstin} --request-only`, then `gstvault login {gstin} --otp NNNNNN --no-request`"
        ),
    };
    if !args.no_request {
        app::login::request_otp(&client, &entry).await?;
        eprintln!("OTP sent for {gstin} (user {})", entry.username);
    }
    if args.request_only {
        outln!("OTP requested; verify with: gstvault login {gstin} --otp NNNNNN --no-request");
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
    outln!(
        "logged in {gstin}: access token valid until {}, API access until {}",
        crate::render::when(session.expires_at()),
        crate::render::when(session.session_expiry)
    );
    Ok(ExitCode::Ok)
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
    let config = load_config(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let clock: SharedClock = Arc::new(SystemClock);
    let plan = app::capture::plan(&config, &selection(&args), clock.now(), "snapshot")?;
    let credentials = config.credentials()?;
    let rate_limit = config.api.rate_limit_per_minute;
    let progress: Arc<dyn Progress> = if std::io::stderr().is_terminal() {
        Arc::new(progress::Bar::new(rate_limit))
    } else {
        Arc::new(progress::LogLines::start(rate_limit))
    };
    // SIGINT or SIGTERM: no new request starts, the ones in flight are
    // archived, the run is recorded interrupted, checkpointed and summed up.
    // A second signal ends the process at once.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let signals = tokio::spawn(async move {
        crate::daemon::termination_signal().await;
        eprintln!("interrupted: finishing the requests in flight (send the signal again to stop at once)");
        let _ = stop_tx.send(true);
        crate::daemon::termination_signal().await;
        std::process::exit(ExitCode::Interrupted as i32);
    });
    let mode = Mode::chosen(&config, args.planned, args.full);
    let captured =
        app::capture::capture_once(&config, credentials, clock, &plan, mode, Some(progress), Some(stop)).await;
    signals.abort();
    let captured = captured?;
    out!("{}", crate::render::captured(&captured));
    outln!("archive: {}", config.archive_path.display());
    Ok(ExitCode::of_capture(&captured))
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
    let mut sim_config = crate::sim::SimConfig::new(args.seed, start);
    for (flag, share) in [
        ("--fault-5xx", args.fault_5xx),
        ("--fault-429", args.fault_429),
        ("--fault-torn", args.fault_torn),
        ("--fault-invalid-json", args.fault_invalid_json),
        ("--fault-odd-body", args.fault_odd_body),
        ("--fault-slow", args.fault_slow),
    ] {
        if !(0.0..=1.0).contains(&share) {
            bail!("{flag} {share}: a share of requests, from 0 to 1");
        }
    }
    sim_config.faults = crate::sim::Faults {
        error_5xx: args.fault_5xx,
        rate_429: args.fault_429,
        torn_body: args.fault_torn,
        invalid_json: args.fault_invalid_json,
        odd_body: args.fault_odd_body,
        slow: args.fault_slow,
        slow_max: std::time::Duration::from_millis(args.slow_max_ms),
        seed: args.fault_seed,
        ..Default::default()
    };
    sim_config.rate_limit_per_minute = args.rate_limit.filter(|n| *n > 0);
    if let Some(minutes) = args.session_minutes {
        sim_config.session_ttl = std::time::Duration::from_secs(minutes.max(1) * 60);
    }
    let faults = sim_config.faults.clone();
    let sim = crate::sim::Simulator::new(sim_config);
    outln!(
        "simulator listening on http://{addr} (seed {}, clock {}), test OTP {}",
        args.seed,
        crate::render::when(start),
        crate::sim::TEST_OTP
    );
    outln!(
        "API key {}  secret {}  (test credentials of this simulator, not secrets)",
        crate::sim::DEMO_API_KEY,
        crate::sim::DEMO_API_SECRET
    );
    outln!(
        "demo GSTINs: {}",
        crate::sim::demo_gstins()
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let injected: Vec<String> = [
        ("5xx", faults.error_5xx),
        ("429", faults.rate_429),
        ("torn", faults.torn_body),
        ("invalid-json", faults.invalid_json),
        ("odd-body", faults.odd_body),
        ("slow", faults.slow),
    ]
    .iter()
    .filter(|(_, share)| *share > 0.0)
    .map(|(name, share)| format!("{name} {:.0}%", share * 100.0))
    .collect();
    if !injected.is_empty() {
        outln!(
            "faults: {} of data requests (seed {})",
            injected.join(", "),
            faults.seed
        );
    }
    sim.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(ExitCode::Ok)
}

async fn daemon(config_path: &Path) -> Result<ExitCode> {
    let config = load_config(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let credentials = config.credentials()?;
    let daemon = crate::daemon::Daemon::new(config, credentials, Arc::new(SystemClock))?;
    daemon.serve(crate::daemon::termination_signal()).await?;
    Ok(ExitCode::Ok)
}

/// `serve`: the web view alone, beside a daemon or without one.
async fn serve(config_path: &Path, args: ServeArgs) -> Result<ExitCode> {
    let config = load_config(config_path)?;
    crate::logging::init(config.log_format, &config.log_level);
    let listen = match args.listen.as_deref() {
        Some(text) => text
            .parse::<std::net::SocketAddr>()
            .map_err(|_| anyhow::anyhow!("--listen {text:?}: not an address such as 127.0.0.1:8080"))?,
        None => config
            .web
            .listen
            .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
    };
    // The archive at the current schema (the access log is schema 11); no lock is taken.
    drop(crate::store::Store::open(&config.archive_path)?);
    let scheme = if config.web.tls.is_some() { "https" } else { "http" };
    let (bound, task) = crate::web::start(
        Arc::new(config),
        Arc::new(SystemClock),
        listen,
        crate::daemon::termination_signal(),
    )
    .await?;
    outln!("web view: {scheme}://{bound}/ (stop with Ctrl-C)");
    task.await??;
    Ok(ExitCode::Ok)
}

fn status(config_path: &Path) -> Result<ExitCode> {
    let config = load_config(config_path)?;
    let status = app::status::status(&config, Utc::now())?;
    out!("{}", crate::render::status(&status));
    Ok(if status.needs_login() {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}

fn plan(config_path: &Path, args: PlanArgs) -> Result<ExitCode> {
    let config = load_config(config_path)?;
    let selection = app::capture::Selection {
        gstins: args.gstin.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        ..Default::default()
    };
    let report = app::plan::plan(&config, &selection, Utc::now())?;
    out!("{}", crate::render::plan(&report, args.calls));
    Ok(ExitCode::Ok)
}

/// `user add / list / remove / passwd`: the web view's accounts. The
/// password comes from stdin with `--password-stdin`, else is asked twice on
/// the terminal without echo; it is never printed.
fn user(config_path: &Path, command: UserCommand) -> Result<ExitCode> {
    match command {
        UserCommand::Add(args) => {
            let config = load_config(config_path)?;
            let request = app::users::AddUser {
                name: args.name,
                role: args.role,
                gstins: args.gstin,
                from: args.from,
                to: args.to,
                until: args.until,
            };
            // Bad flags are refused before a password is asked for.
            app::users::check(&request, Utc::now())?;
            let password = read_password(&request.name, "add", args.password_stdin)?;
            let added = app::users::add(&config, &request, &password, Utc::now())?;
            outln!(
                "added {} {} ({})",
                added.role,
                added.name,
                match added.role {
                    crate::domain::access::Role::Auditor =>
                        added.grants.iter().map(|g| g.describe()).collect::<Vec<_>>().join(", "),
                    _ => "every GSTIN".into(),
                }
            );
            Ok(ExitCode::Ok)
        }
        UserCommand::List(args) => {
            let reader = open_for_query(config_path, &args.output.archive)?;
            let rows = app::users::list(&reader)?;
            print_table(&crate::render::users::users_table(&rows), &args.output, "no accounts")
        }
        UserCommand::Remove { name } => {
            let config = load_config(config_path)?;
            app::users::remove(&config, &name, Utc::now())?;
            outln!("removed {name}: it can no longer log in");
            Ok(ExitCode::Ok)
        }
        UserCommand::Passwd { name, password_stdin } => {
            let config = load_config(config_path)?;
            crate::domain::access::check_name(&name).map_err(anyhow::Error::msg)?;
            let password = read_password(&name, "passwd", password_stdin)?;
            app::users::passwd(&config, &name, &password)?;
            outln!("password of {name} changed");
            Ok(ExitCode::Ok)
        }
    }
}

/// A new password: one line of stdin with `--password-stdin`, else typed
/// twice on the terminal without echo. Refused without a terminal.
fn read_password(name: &str, command: &str, from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("--password-stdin: cannot read standard input")?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        return Ok(password.to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "user {command} {name}: stdin is not a terminal, so the password cannot be typed: \
             give it on standard input with --password-stdin"
        );
    }
    let first = rpassword::prompt_password(format!("new password for {name}: "))
        .context("cannot read the password from the terminal")?;
    let second = rpassword::prompt_password("the same password again: ")
        .context("cannot read the password from the terminal")?;
    if first != second {
        bail!("user {command} {name}: the two passwords differ: nothing was changed");
    }
    Ok(first)
}
