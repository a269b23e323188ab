//! Invariants of the simulated business: ledger arithmetic, return
//! agreement, checksums and determinism.

use chrono::NaiveDate;
use serde_json::Value;

use super::gen::OutKind;
use super::*;
use crate::domain::catalog::{self, ENDPOINTS};
use crate::domain::period::{Month, Period};

fn business() -> Business {
    Business::new(&crate::sim::demo_gstins()[0], 7)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn ask(b: &Business, name: &str, period: Period, today: NaiveDate) -> Answer {
    let e = catalog::find(name).unwrap();
    let spec = e.request(b.gstin().as_str(), &period, today).unwrap();
    let (endpoint, params) = catalog::route(spec.method.as_str(), &spec.path, &spec.query).unwrap();
    b.respond(endpoint, &params, &spec.query, today)
}

fn data(a: Answer) -> Value {
    match a {
        Answer::Data(v) | Answer::Flat(v) => v,
        other => panic!("expected data, got {other:?}"),
    }
}

fn paise(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

#[test]
fn ledgers_close_per_head_every_month() {
    let b = business();
    let today = d(2026, 11, 25);
    for m in Month::parse("2024-04")
        .unwrap()
        .through(Month::parse("2026-10").unwrap())
    {
        let cash = data(ask(&b, "ledger-cash", Period::Month(m), today));
        for head in ["igstbal", "cgstbal", "sgstbal", "cessbal"] {
            let mut bal = paise(&cash["op_bal"][head]["tx"]);
            for tr in cash["tr"].as_array().unwrap() {
                let amt = paise(&tr[&head[..head.len() - 3]]["tx"]);
                bal += if tr["tr_typ"] == "Cr" { amt } else { -amt };
                assert_eq!(bal, paise(&tr[head]["tx"]));
                assert!(bal >= 0, "cash never negative");
            }
            assert_eq!(bal, paise(&cash["cl_bal"][head]["tx"]), "{m} {head}");
        }
        let itc = data(ask(&b, "ledger-itc", Period::Month(m), today));
        let l = &itc["itcLdgDtls"];
        for head in ["igst", "cgst", "sgst", "cess"] {
            let mut bal = paise(&l["op_bal"][format!("{head}TaxBal")]);
            for tr in l["tr"].as_array().unwrap() {
                let amt = paise(&tr[format!("{head}TaxAmt")]);
                bal += if tr["tr_typ"] == "Cr" { amt } else { -amt };
                assert!(bal >= 0);
            }
            assert_eq!(bal, paise(&l["cl_bal"][format!("{head}TaxBal")]), "{m} itc {head}");
        }
        let liab = data(ask(&b, "ledger-liability", Period::Month(m), today));
        assert!(
            liab["tr"].as_array().unwrap().len() >= 2,
            "{m} liability posted and discharged"
        );
        assert_eq!(paise(&liab["cl_bal"]["tot_rng_bal"]), 0);
        // The month's closing balance agrees with the balance endpoint.
        let bal = data(ask(&b, "ledger-balance", Period::Month(m), today));
        assert_eq!(
            paise(&bal["cash_bal"]["igst_tot_bal"]),
            paise(&cash["cl_bal"]["igstbal"]["tot"])
        );
        assert_eq!(paise(&bal["itc_bal"]["cgst_bal"]), paise(&l["cl_bal"]["cgstTaxBal"]));
    }
}

#[test]
fn gstr3b_matches_gstr1_except_the_planted_month() {
    let b = business();
    let today = d(2026, 11, 25);
    let fy = FinancialYear { start_year: 2025 };
    let plants = b.plants(fy);
    for m in fy.months() {
        let r3b = data(ask(&b, "gstr-3b", Period::Month(m), today));
        let out = b.outward(m).tax();
        let reported = paise(&r3b["sup_details"]["osup_det"]["iamt"]) + paise(&r3b["sup_details"]["osup_det"]["camt"]);
        let itc_2b = b.inward(m).itc().total();
        let claimed = paise(&r3b["itc_elg"]["itc_net"]["iamt"])
            + paise(&r3b["itc_elg"]["itc_net"]["camt"])
            + paise(&r3b["itc_elg"]["itc_net"]["samt"]);
        if m == plants.short_payment_month {
            assert!(reported < out.igst() + out.cgst(), "{m} planted short payment");
        } else {
            assert_eq!(reported, out.igst() + out.cgst(), "{m}");
        }
        if m == plants.itc_excess_month {
            assert!(claimed > itc_2b, "{m} planted excess ITC");
        } else {
            assert_eq!(claimed, itc_2b, "{m}");
        }
        // Payment: ITC used plus cash equals the liability, per the primer's heads.
        let p = &r3b["tx_pmt"];
        let i_paid = paise(&p["pdcash"][0]["ipd"])
            + paise(&p["pditc"]["i_pdi"])
            + paise(&p["pditc"]["i_pdc"])
            + paise(&p["pditc"]["i_pds"]);
        assert_eq!(i_paid, paise(&p["net_tax_pay"][0]["igst"]["tx"]));
    }
}

#[test]
fn hsn_and_doc_issue_agree_with_invoices() {
    let b = business();
    let m = Month::parse("2025-07").unwrap();
    let today = d(2026, 1, 1);
    let out = b.outward(m);
    let hsn = data(ask(&b, "gstr-1-hsn", Period::Month(m), today));
    let txval = |rows: &Value| -> i64 { rows.as_array().unwrap().iter().map(|r| paise(&r["txval"])).sum() };
    // From the May 2025 period table 12 is in two parts (GSTN `get_hsn.json`: `hsn_b2b`, `hsn_b2c`).
    assert!(hsn["hsn"].get("data").is_none());
    let b2b: i64 = out.of_kind(OutKind::B2b).map(|d| d.txval()).sum();
    assert_eq!(txval(&hsn["hsn"]["hsn_b2b"]), b2b);
    let expected: i64 = out.invoices.iter().chain(out.retail.iter()).map(|d| d.txval()).sum();
    assert_eq!(txval(&hsn["hsn"]["hsn_b2b"]) + txval(&hsn["hsn"]["hsn_b2c"]), expected);
    assert!(hsn["hsn"]["chksum"].is_string());
    // Before it, one list `data`, as the documented sample has it.
    let april = Month::parse("2025-04").unwrap();
    let before = data(ask(&b, "gstr-1-hsn", Period::Month(april), today));
    let all = b.outward(april);
    assert_eq!(
        txval(&before["hsn"]["data"]),
        all.invoices
            .iter()
            .chain(all.retail.iter())
            .map(|d| d.txval())
            .sum::<i64>()
    );
    // The summary totals the parts under their own names, `ttl_tax` the taxable value.
    let summary = data(ask(&b, "gstr-1-summary", Period::Month(m), today));
    let sec = |name: &str| {
        summary["sec_sum"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sec_nm"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    assert_eq!(paise(&sec("HSN_B2B")["ttl_tax"]), b2b);
    assert_eq!(paise(&sec("B2B")["ttl_tax"]), b2b);
    assert_eq!(sec("B2B_4A")["ttl_igst"], sec("B2B")["ttl_igst"]);
    assert_eq!(summary["newSumFlag"], true);
    let doc = data(ask(&b, "gstr-1-doc-issue", Period::Month(m), today));
    let docs = &doc["doc_issue"]["doc_det"][0]["docs"];
    assert_eq!(docs[0]["totnum"], out.invoices.len());
    assert_eq!(docs[0]["from"], out.invoices[0].num.as_str());
    assert_eq!(docs[1]["totnum"], out.retail.len());
}

#[test]
fn events_change_exactly_their_endpoints() {
    let b = business();
    let events = b.events_between(d(2026, 1, 1), d(2026, 3, 31));
    assert!(!events.is_empty());
    let month_endpoints: Vec<&str> = ENDPOINTS
        .iter()
        .filter(|e| e.period == catalog::PeriodKind::Month && e.quirk == catalog::Quirk::None)
        .map(|e| e.name)
        .collect();
    for e in events {
        let before = e.effective.pred_opt().unwrap();
        for name in &month_endpoints {
            let a = serde_json::to_vec(&answer_value(ask(&b, name, Period::Month(e.period), before))).unwrap();
            let z = serde_json::to_vec(&answer_value(ask(&b, name, Period::Month(e.period), e.effective))).unwrap();
            assert_eq!(
                a != z,
                e.endpoints.contains(name),
                "{:?} {} on {}",
                e.kind,
                name,
                e.effective
            );
        }
    }
}

fn answer_value(a: Answer) -> Value {
    match a {
        Answer::Data(v) | Answer::Flat(v) => v,
        Answer::Paged { file_count } => Value::from(file_count),
        Answer::Error { code, .. } | Answer::PublicError { code, .. } => Value::from(code),
    }
}

#[test]
fn an_event_is_never_more_than_ten_days_away() {
    let b = business();
    let events = b.events_between(d(2024, 1, 1), d(2027, 1, 1));
    for pair in events.windows(2) {
        assert!((pair[1].effective - pair[0].effective).num_days() <= 10);
    }
}

#[test]
fn chksum_follows_content_and_output_is_deterministic() {
    let b = business();
    let e = b
        .events_between(d(2026, 1, 1), d(2026, 6, 30))
        .into_iter()
        .find(|e| e.kind == EventKind::B2baAmendment)
        .unwrap();
    let before = data(ask(
        &b,
        "gstr-1-summary",
        Period::Month(e.period),
        e.effective.pred_opt().unwrap(),
    ));
    let after = data(ask(&b, "gstr-1-summary", Period::Month(e.period), e.effective));
    assert_ne!(before["chksum"], after["chksum"]);
    let b2b = |v: &Value| {
        v["sec_sum"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["sec_nm"] == "B2B")
            .unwrap()["chksum"]
            .clone()
    };
    assert_eq!(b2b(&before), b2b(&after));
    let again = Business::new(&crate::sim::demo_gstins()[0], 7);
    let x = serde_json::to_vec(&data(ask(
        &again,
        "gstr-1-summary",
        Period::Month(e.period),
        e.effective,
    )))
    .unwrap();
    assert_eq!(x, serde_json::to_vec(&after).unwrap());
}

#[test]
fn nothing_is_visible_before_filing() {
    let b = business();
    let m = Month::parse("2026-05").unwrap();
    let today = d(2026, 6, 9);
    for e in ENDPOINTS
        .iter()
        .filter(|e| e.period == catalog::PeriodKind::Month && e.quirk == catalog::Quirk::None)
    {
        let name = e.name;
        if name.starts_with("gstr-1")
            || name.starts_with("gstr-3b")
            || name == "gstr-2a-b2b"
            || name == "gstr-2a-document"
        {
            let a = ask(&b, name, Period::Month(m), today);
            let code = a.error_code().unwrap_or_else(|| panic!("{name} visible before filing"));
            assert!(catalog::NO_DATA_CODES.contains(&code), "{name}: {code}");
        }
    }
    assert_eq!(
        ask(&b, "gstr-2b", Period::Month(m), today).error_code(),
        Some("RET2B1023")
    );
}

#[test]
fn the_readers_read_what_the_simulator_writes() {
    use crate::domain::documents;
    let b = business();
    let today = d(2026, 11, 25);
    let sum = |docs: &[documents::Document]| {
        docs.iter()
            .fold(crate::domain::money::Heads::default(), |a, d| a.plus(&d.tax))
    };
    let heads = |h: Heads| crate::domain::money::Heads {
        igst: h.igst(),
        cgst: h.cgst(),
        sgst: h.sgst(),
        cess: h.cess(),
    };
    let (mut tds, mut tcs) = (0, 0);
    for m in Month::parse("2024-10")
        .unwrap()
        .through(Month::parse("2026-09").unwrap())
    {
        let out = b.outward(m);
        // Every GSTR-1 invoice is a document with its number, date and tax, B2CL and EXP
        // (grouped by `pos` and `exp_typ`, no ctin) included.
        for (name, kind) in [
            ("gstr-1-b2b", OutKind::B2b),
            ("gstr-1-b2cl", OutKind::B2cl),
            ("gstr-1-exp", OutKind::Exp),
        ] {
            let expected: Vec<&gen::Doc> = out.of_kind(kind).collect();
            let answer = ask(&b, name, Period::Month(m), today);
            if expected.is_empty() && answer.error_code().is_some() {
                continue;
            }
            let docs = documents::read(&data(answer));
            let numbers: Vec<&str> = docs.iter().filter_map(|d| d.number.as_deref()).collect();
            let mut wanted: Vec<&str> = expected.iter().map(|d| d.num.as_str()).collect();
            let mut got = numbers.clone();
            wanted.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, wanted, "{name} {m}");
            let tax = expected.iter().fold(Heads::default(), |a, d| a + d.tax());
            assert_eq!(sum(&docs), heads(tax), "{name} {m}");
            assert!(docs
                .iter()
                .all(|d| d.unread.is_none() && d.date.as_deref().is_some_and(|t| t.len() == 10)));
        }
        // The whole 2A: every section read, TDS by its deductor, TCS by its operator.
        let answer = ask(&b, "gstr-2a-document", Period::Month(m), today);
        if answer.error_code().is_none() {
            let docs = documents::read(&data(answer));
            assert!(docs.iter().all(|d| d.unread.is_none()), "{m}");
            for d in docs.iter().filter(|d| d.section == "TDS") {
                assert_eq!(d.counterparty.as_deref(), Some(b.inner.deductor.gstin.as_str()));
                tds += 1;
            }
            for d in docs.iter().filter(|d| d.section == "TCS") {
                assert_eq!(d.counterparty.as_deref(), Some(b.inner.operator.gstin.as_str()));
                assert!(d.taxable.is_some_and(|t| t > 0));
                tcs += 1;
            }
            assert!(docs
                .iter()
                .filter(|d| d.section == "IMPG")
                .all(|d| d.counterparty.is_none() && d.value["benum"].is_number()));
            let cdn: Vec<&documents::Document> = docs.iter().filter(|d| d.section == "CDN").collect();
            assert!(cdn.iter().all(|d| d.is_credit()));
        }
    }
    assert!(tds > 0 && tcs > 0, "TDS {tds}, TCS {tcs}");
}
