//! Property tests and bounded fuzzing of everything that reads outside input:
//! GSTINs, periods, the API envelope, the config parser, and the bundle reader.
//! Case counts are fixed so CI time is bounded (PROPTEST_CASES overrides).

use std::path::Path;

use gstvault::domain::gstin::{check_character, Gstin, GstinError};
use gstvault::domain::period::{month_range, FinancialYear, Month};
use proptest::prelude::*;

const ALPHANUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn pan() -> impl Strategy<Value = String> {
    ("[A-Z]{5}", "[0-9]{4}", "[A-Z]").prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn composed_gstins_are_valid_and_any_other_check_character_is_refused(
        state in 1u8..38, pan in pan(), entity in prop::sample::select(&ALPHANUM[1..]), wrong in prop::sample::select(ALPHANUM)
    ) {
        let gstin = Gstin::compose(state, &pan, entity as char).unwrap();
        prop_assert_eq!(Gstin::parse(&gstin.to_string().to_lowercase()).unwrap(), gstin.clone());
        let good = gstin.as_str().as_bytes()[14];
        prop_assume!(wrong != good);
        let tampered = format!("{}{}", &gstin.as_str()[..14], wrong as char);
        let refused = matches!(Gstin::parse(&tampered), Err(GstinError::CheckDigit(..)));
        prop_assert!(refused);
        prop_assert_eq!(check_character(&gstin.as_str()[..14]), Some(good as char));
    }

    #[test]
    fn any_string_is_a_gstin_or_a_one_line_error(input in ".{0,40}") {
        match Gstin::parse(&input) {
            Ok(g) => prop_assert_eq!(g.as_str().len(), 15),
            Err(e) => prop_assert!(!e.to_string().contains('\n')),
        }
    }

    #[test]
    fn month_arithmetic_round_trips(year in 1995i32..2100, month in 1u32..=12, span in 0i32..60, day in 1u32..=31) {
        let m = Month::new(year, month).unwrap();
        prop_assert_eq!(Month::parse(&m.to_string()).unwrap(), m);
        prop_assert_eq!(m.next().prev(), m);
        let mut later = m;
        for _ in 0..span { later = later.next(); }
        prop_assert_eq!(m.months_until(later), span);
        prop_assert_eq!(m.through(later).len() as i32, span + 1);
        let fy = m.financial_year();
        prop_assert!(fy.months().contains(&m));
        prop_assert_eq!(fy.months().len(), 12);
        prop_assert_eq!(FinancialYear::parse(&fy.api_value()).unwrap(), fy);
        let today = m.day(day);
        let (from, to) = month_range(m, today).unwrap();
        prop_assert!(from <= to && to <= today && from == m.first_day());
        prop_assert!(month_range(m.next(), today).is_none());
    }

    #[test]
    fn the_envelope_reader_never_panics_and_spans_stay_inside(body in prop::collection::vec(any::<u8>(), 0..300), status in 100u16..600) {
        let reading = gstvault::domain::envelope::parse(status, &body);
        prop_assert!(reading.payload.start <= reading.payload.end && reading.payload.end <= body.len());
    }

    #[test]
    fn generated_envelopes_split_and_reassemble_exactly(
        code in 0u32..1000, tid in "[a-f0-9-]{0,36}", key in "[a-z_]{1,8}", value in "[ -~]{0,40}", status in prop::sample::select(vec!["0", "1", "3"])
    ) {
        let payload = serde_json::json!({ key.clone(): value, "chksum": "abc" }).to_string();
        let body = format!(r#"{{"code":200,"timestamp":{code},"transaction_id":"{tid}","data":{{"status_cd":"{status}","data":{payload}}}}}"#);
        let reading = gstvault::domain::envelope::parse(200, body.as_bytes());
        let span = &body.as_bytes()[reading.payload.clone()];
        let mut rebuilt = body.as_bytes()[..reading.payload.start].to_vec();
        rebuilt.extend_from_slice(span);
        rebuilt.extend_from_slice(&body.as_bytes()[reading.payload.end..]);
        prop_assert_eq!(rebuilt, body.as_bytes().to_vec());
        if status != "0" {
            prop_assert_eq!(span, payload.as_bytes());
        }
    }

    #[test]
    fn the_config_parser_gives_a_config_or_one_line(text in "[\\[\\]a-z_=\" 0-9.\n#-]{0,200}") {
        match gstvault::config::Config::from_toml(&text, "fuzz.toml", Path::new("/tmp")) {
            Ok(_) => {}
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("config fuzz.toml") && !message.contains('\n'), "{}", message);
            }
        }
    }
}

/// Random bytes and random mutations of a real bundle: the reader answers with
/// findings or one error, never panics, writes nothing.
#[tokio::test]
async fn the_bundle_reader_survives_random_and_mutated_input() {
    let world = crate::support::World::build(|_| {}, 1).await;
    world.login_all().await;
    let gstin = world.gstins()[0].clone();
    world
        .capture(&world.plan(std::slice::from_ref(&gstin), None, "2026-05", "2026-05"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let key = gstvault::evidence::signing::SigningKey::load(&keys.join("test.key"), None).unwrap();
    let request = gstvault::evidence::bundle::export::ExportRequest {
        gstin,
        legal_name: None,
        organization: String::new(),
        scope: gstvault::evidence::scope::Scope::Month(Month::parse("2026-05").unwrap()),
        as_of: world.clock.now(),
        out_dir: dir.path().to_path_buf(),
        template: None,
    };
    let exported =
        gstvault::app::export::export(&mut world.store.lock().unwrap(), &key, &request, world.clock.now()).unwrap();
    let good = std::fs::read(&exported.path).unwrap();
    let target = dir.path().join("fuzzed.zip");
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    });
    let strategy = (
        prop::collection::vec((0usize..good.len(), any::<u8>()), 1..6),
        prop::option::of(0usize..good.len()),
    );
    runner
        .run(&strategy, |(flips, cut)| {
            let mut bytes = good.clone();
            for (at, value) in flips {
                bytes[at] = value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            std::fs::write(&target, &bytes).unwrap();
            match gstvault::evidence::bundle::check::check_bundle(&target, None, None) {
                Ok(report) => {
                    if bytes != good && report.intact() {
                        // Only bytes no check covers (ZIP timestamps, header padding) may change unnoticed.
                        let changed: Vec<usize> = (0..bytes.len().min(good.len()))
                            .filter(|i| bytes[*i] != good[*i])
                            .collect();
                        prop_assert!(bytes.len() == good.len() && !changed.is_empty());
                    }
                }
                Err(e) => prop_assert!(!e.to_string().contains('\n')),
            }
            Ok(())
        })
        .unwrap();
    let mut random = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    random
        .run(&prop::collection::vec(any::<u8>(), 0..2048), |bytes| {
            std::fs::write(&target, &bytes).unwrap();
            let _ = gstvault::evidence::bundle::check::check_bundle(&target, None, None);
            Ok(())
        })
        .unwrap();
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "nothing extracted: {left:?}");
}
