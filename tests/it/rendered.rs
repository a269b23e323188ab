//! Snapshot tests (insta) of the exact text a person reads: `config show`
//! and `config check`, `status`, `plan` with and without its call list, the
//! summary `snapshot` prints after a capture, `export`'s and `verify`'s
//! reports (intact and tampered), and the query tables of `list`, `diff`,
//! `changes`, `balances` and `itc` (some also as JSON and CSV). Each text is
//! rendered through `gstvault::render` from the library's data, as the binary
//! prints it, over one reproducible scenario: the simulator's fixed clock,
//! concurrency 1, a fixed archive id and the fixture signing key. The expected
//! texts are the `.snap` files under `snapshots/`; a change of wording or
//! layout shows there as a diff to review. Only what no test can fix (the
//! temporary directory, the simulator's loopback port) is masked, by filters.
//! Each `.snap` file's description is the command line that prints its text;
//! G1, G2 and G3 there stand for the three configured demo GSTINs.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use gstvault::app::capture::{Captured, Mode, Selection};
use gstvault::query::{self, BalancesArgs, ChangesArgs, DiffArgs, ListArgs};
use gstvault::render::{self, table::Format};
use gstvault::sim;
use gstvault::store::Reader;

use crate::support::{start_instant, World};

/// The archive's identity (the checkpoint origin's suffix), fixed so that
/// signed checkpoints and bundles are the same bytes on every run.
const ARCHIVE_ID: &str = "rendered00000000";

/// How long after the first capture the second one runs.
const LATER: i64 = 20;

/// A reproducible world: the simulator at [`start_instant`], concurrency 1,
/// a fixed archive id, and the fixture key where the config looks for the
/// archive's key (so captures sign their checkpoints and export can sign).
async fn fresh_world() -> World {
    let world = World::build(|_| {}, 1).await;
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    std::fs::copy(keys.join("test.key"), &world.config.signing_key).unwrap();
    std::fs::copy(keys.join("test.pub"), &world.config.public_key).unwrap();
    world.store.lock().unwrap().init_archive_id(ARCHIVE_ID).unwrap();
    world
}

/// Logs in the first `n` configured GSTINs at the simulator's now.
async fn log_in_first(world: &World, n: usize) {
    for entry in world.config.gstins.iter().take(n) {
        gstvault::app::login::log_in(&world.config, &world.client, entry, sim::TEST_OTP, world.clock.now())
            .await
            .unwrap();
    }
}

/// One capture of the first and the third configured GSTIN for April and
/// May 2026, as `gstvault snapshot --gstin G1 --gstin G3 --from 2026-04 --to
/// 2026-05` plans it. Only the first is logged in: a run captures its GSTINs
/// side by side, so two GSTINs that both answer interleave in the log in an
/// order that differs from run to run, even at concurrency 1; the third
/// makes no request and only shows as needing login.
async fn capture(world: &World, mode: Mode) -> Captured {
    let gstins = world.gstins();
    let selection = Selection {
        gstins: vec![gstins[0].to_string(), gstins[2].to_string()],
        from: Some("2026-04".into()),
        to: Some("2026-05".into()),
        ..Selection::default()
    };
    let plan = gstvault::app::capture::plan(&world.config, &selection, world.clock.now(), "snapshot").unwrap();
    world.capture_in(&plan, mode).await
}

/// The archive most snapshots read. On 25 June the first two GSTINs log in
/// (the third never does) and a full capture takes April and May of the
/// first and the third ([`capture`]); 20 days later the two log in again and
/// a planned capture of the same runs; then May's bundle of the first GSTIN
/// is exported.
struct Scenario {
    world: World,
    full: Captured,
    planned: Captured,
    /// `export`'s printed text.
    exported: String,
    bundle: PathBuf,
}

impl Scenario {
    async fn build() -> Scenario {
        let world = fresh_world().await;
        log_in_first(&world, 2).await;
        let full = capture(&world, Mode::Full).await;
        world.sim.sim.advance(Duration::days(LATER));
        log_in_first(&world, 2).await;
        let planned = capture(&world, Mode::Planned { daily_budget: 0 }).await;
        let selection = gstvault::app::export::Selection {
            gstin: world.gstins()[0].to_string(),
            month: Some("2026-05".into()),
            ..Default::default()
        };
        let exported = gstvault::app::export::export_once(&world.config, &selection, world.clock.now()).unwrap();
        Scenario {
            exported: render::exported(&exported),
            bundle: exported.path,
            full,
            planned,
            world,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.world.clock.now()
    }

    fn store(&self) -> Reader {
        Reader::open(&self.world.config.archive_path).unwrap()
    }

    fn gstin(&self, i: usize) -> String {
        self.world.gstins()[i].to_string()
    }
}

/// Escapes `text` for a regular expression that matches it literally.
fn literal(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$#&-~".contains(c);
            meta.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Snapshot settings for the text of `command`, as a user types it (the
/// `.snap` file's description).
fn printed_by(command: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_description(command);
    settings.set_omit_expression(true);
    settings
}

/// [`printed_by`] for a text that names files of the world or its
/// simulator's address.
fn masked(world: &World, command: &str) -> insta::Settings {
    let mut settings = printed_by(command);
    // The config, archive, sessions and bundles live in a temporary directory
    // made fresh for every run: its name is random.
    settings.add_filter(&literal(&world.dir().display().to_string()), "[TEMP]");
    // The simulator listens on 127.0.0.1:0, so the OS picks its port per run.
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:[PORT]");
    settings
}

#[tokio::test]
async fn config_show_prints_the_effective_config_and_redacts_secrets() {
    let world = fresh_world().await;
    // The variables the test config names are set only in child processes
    // (cli.rs); set here they would print "set, value redacted" instead.
    for var in [&world.config.api.key_env, &world.config.api.secret_env] {
        assert!(std::env::var_os(var).is_none(), "{var} must be unset for this snapshot");
    }
    masked(&world, "gstvault config show").bind(|| insta::assert_snapshot!("config_show", world.config.show()));
}

#[tokio::test]
async fn config_check_lists_the_captured_groups_and_the_next_daemon_fires() {
    let world = fresh_world().await;
    let text = render::config_check(&world.config, start_instant());
    // Followed by a line on the credentials that only the binary prints.
    masked(&world, "gstvault config check").bind(|| insta::assert_snapshot!("config_check", text));
}

#[tokio::test]
async fn status_of_a_new_archive_says_every_gstin_needs_login() {
    let world = fresh_world().await;
    let status = gstvault::app::status::status(&world.config, world.clock.now()).unwrap();
    printed_by("gstvault status").bind(|| insta::assert_snapshot!("status_new_archive", render::status(&status)));
}

#[tokio::test]
async fn status_after_captures_and_an_export() {
    let s = Scenario::build().await;
    let status = gstvault::app::status::status(&s.world.config, s.now()).unwrap();
    printed_by("gstvault status").bind(|| insta::assert_snapshot!("status_after_captures", render::status(&status)));
}

#[tokio::test]
async fn snapshot_prints_the_totals_of_a_full_and_of_a_planned_capture() {
    let s = Scenario::build().await;
    // Its run summary, then the checkpoint line; the binary adds the archive's path.
    printed_by("gstvault snapshot --full --gstin G1 --gstin G3 --from 2026-04 --to 2026-05")
        .bind(|| insta::assert_snapshot!("capture_full", render::captured(&s.full)));
    printed_by("gstvault snapshot --planned --gstin G1 --gstin G3 --from 2026-04 --to 2026-05")
        .bind(|| insta::assert_snapshot!("capture_planned", render::captured(&s.planned)));
}

#[tokio::test]
async fn plan_shows_the_next_capture_with_and_without_its_calls() {
    let s = Scenario::build().await;
    // Every configured GSTIN over the default window.
    let all = gstvault::app::plan::plan(&s.world.config, &Selection::default(), s.now()).unwrap();
    printed_by("gstvault plan").bind(|| insta::assert_snapshot!("plan_default", render::plan(&all, false)));
    let one = Selection {
        gstins: vec![s.gstin(0)],
        from: Some("2026-04".into()),
        to: Some("2026-05".into()),
        ..Selection::default()
    };
    let report = gstvault::app::plan::plan(&s.world.config, &one, s.now()).unwrap();
    printed_by("gstvault plan --gstin G1 --from 2026-04 --to 2026-05 --calls")
        .bind(|| insta::assert_snapshot!("plan_one_gstin_with_calls", render::plan(&report, true)));
}

#[tokio::test]
async fn export_says_where_the_bundle_went() {
    let s = Scenario::build().await;
    masked(&s.world, "gstvault export --gstin G1 --month 2026-05")
        .bind(|| insta::assert_snapshot!("export", s.exported));
}

#[tokio::test]
async fn bundles_lists_the_chain_and_what_is_found_under_each_name() {
    let s = Scenario::build().await;
    let chain = gstvault::app::bundles::chain(&s.world.config, None, None).unwrap();
    masked(&s.world, "gstvault bundles").bind(|| insta::assert_snapshot!("bundles", render::bundles(&chain)));
}

/// Copies a bundle with one byte of its first GSTR-3B snapshot file flipped.
fn tamper(bundle: &Path, target: &Path) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(target).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut flipped = false;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if !flipped && name.contains("/data/snapshots/gstr-3b/") {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
            flipped = true;
        }
        writer.start_file(name, options).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap();
    assert!(flipped, "the bundle holds a GSTR-3B snapshot");
}

#[tokio::test]
async fn verify_says_intact_or_lists_each_finding() {
    let s = Scenario::build().await;
    let config = &s.world.config;
    // The whole archive, with the configured public key.
    let archive = gstvault::app::verify::verify_archive(config, None).unwrap();
    printed_by("gstvault verify --archive")
        .bind(|| insta::assert_snapshot!("verify_archive", render::verify_report(&archive)));
    let trusted = gstvault::app::verify::verify_bundle(&s.bundle, Some(&config.public_key), None).unwrap();
    printed_by("gstvault verify BUNDLE --pubkey gstvault.pub")
        .bind(|| insta::assert_snapshot!("verify_bundle", render::verify_report(&trusted)));
    // Checked with the bundle's own copy of the key.
    let own = gstvault::app::verify::verify_bundle(&s.bundle, None, None).unwrap();
    printed_by("gstvault verify BUNDLE")
        .bind(|| insta::assert_snapshot!("verify_bundle_own_key", render::verify_report(&own)));
    // A bundle whose GSTR-3B answer was edited after export.
    let tampered = s.world.dir().join("tampered.zip");
    tamper(&s.bundle, &tampered);
    let report = gstvault::app::verify::verify_bundle(&tampered, Some(&config.public_key), None).unwrap();
    assert!(!report.intact());
    printed_by("gstvault verify TAMPERED-BUNDLE --pubkey gstvault.pub")
        .bind(|| insta::assert_snapshot!("verify_bundle_tampered", render::verify_report(&report)));
}

#[tokio::test]
async fn query_tables_list_diff_changes_and_balances() {
    let s = Scenario::build().await;
    let store = s.store();
    // The ledgers of the first GSTIN, both captures.
    let rows = query::list(
        &store,
        &ListArgs {
            gstin: Some(s.gstin(0)),
            group: Some("ledgers".into()),
            ..ListArgs::default()
        },
    )
    .unwrap();
    printed_by("gstvault list --gstin G1 --group ledgers")
        .bind(|| insta::assert_snapshot!("list", render::query::list_table(&rows).human()));

    let changes = query::changes(&store, &ChangesArgs::default()).unwrap();
    assert!(!changes.is_empty(), "the scenario changes data between the captures");
    printed_by("gstvault changes")
        .bind(|| insta::assert_snapshot!("changes", render::query::changes_table(&changes).human()));

    // April's GSTR-1 summary, which gained a B2BA section (an addition and a
    // change): the binary prints the one-line description, then the table.
    let amended = changes
        .iter()
        .find(|c| c.endpoint == "gstr-1-summary")
        .expect("April's GSTR-1 summary changed");
    let diffed = query::diff(
        &store,
        &DiffArgs {
            ids: vec![amended.previous_seq.0, amended.seq.0],
            ..DiffArgs::default()
        },
        s.now(),
    )
    .unwrap();
    let text = format!(
        "{}\n{}",
        render::query::describe_diff(&diffed),
        render::query::diff_table(&diffed).human()
    );
    printed_by(&format!("gstvault diff {} {}", amended.previous_seq, amended.seq))
        .bind(|| insta::assert_snapshot!("diff", text));

    let balances = query::balances(
        &store,
        &BalancesArgs {
            gstin: s.gstin(0),
            fy: Some("2026-27".into()),
            month: None,
            as_of: None,
        },
        s.now(),
    )
    .unwrap();
    let table = render::query::balances_table(&balances);
    printed_by("gstvault balances --gstin G1 --fy 2026-27")
        .bind(|| insta::assert_snapshot!("balances", table.render(Format::Human)));
    printed_by("gstvault balances --gstin G1 --fy 2026-27 --json")
        .bind(|| insta::assert_snapshot!("balances_json", table.render(Format::Json)));
    let csv = table.render(Format::Csv);
    // insta compares lines, not line endings: RFC 4180's CRLF is checked here.
    assert!(csv.split_inclusive('\n').all(|line| line.ends_with("\r\n")), "{csv:?}");
    printed_by("gstvault balances --gstin G1 --fy 2026-27 --csv").bind(|| insta::assert_snapshot!("balances_csv", csv));

    let itc = query::itc(
        &store,
        &query::ItcArgs {
            gstin: s.gstin(0),
            month: "2026-05".into(),
            as_of: None,
            against: None,
        },
        s.now(),
    )
    .unwrap();
    assert!(!itc.is_empty());
    let table = render::query::itc_table(&itc);
    printed_by("gstvault itc --gstin G1 --month 2026-05")
        .bind(|| insta::assert_snapshot!("itc", table.render(Format::Human)));
    printed_by("gstvault itc --gstin G1 --month 2026-05 --csv")
        .bind(|| insta::assert_snapshot!("itc_csv", table.render(Format::Csv)));
}
