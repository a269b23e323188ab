//! Generation of the simulated business's documents and money movements:
//! invoices issued and received per month, the planted per-year scenarios,
//! the later-day events, and the month-by-month settlement chain (3B
//! liability, ITC set-off, challans) that the ledgers are read from.
//!
//! Everything is a pure function of (GSTIN, seed, month). It must not render
//! JSON (that is `render`) and must not look at any clock: visibility by date
//! is decided by the caller.

use std::ops::{Add, AddAssign, Sub};

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::domain::gstin::Gstin;
use crate::domain::period::{FinancialYear, Month};

/// Money in paise: all arithmetic is integral so totals never pick up float noise.
pub type Paise = i64;

/// The first return month of every simulated business (its registration).
pub const FIRST_MONTH: Month = Month { year: 2019, month: 4 };
/// Events are planted on these days of every month, so that any date has one
/// within ten days after it.
pub const EVENT_DAYS: [u32; 4] = [1, 8, 15, 22];
/// Last month that carries planted events (the list must be finite).
pub const LAST_EVENT_MONTH: Month = Month { year: 2035, month: 12 };

/// Day of the month after the period on which each return is filed.
pub const GSTR1_DAY: u32 = 11;
pub const GSTR2B_DAY: u32 = 14;
pub const GSTR3B_DAY: u32 = 20;

/// Tax amounts per head: IGST, CGST, SGST, cess.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Heads(pub [Paise; 4]);

impl Heads {
    pub const NAMES: [&'static str; 4] = ["igst", "cgst", "sgst", "cess"];

    pub fn total(self) -> Paise {
        self.0.iter().sum()
    }
    pub fn is_zero(self) -> bool {
        self.0.iter().all(|v| *v == 0)
    }
    pub fn igst(self) -> Paise {
        self.0[0]
    }
    pub fn cgst(self) -> Paise {
        self.0[1]
    }
    pub fn sgst(self) -> Paise {
        self.0[2]
    }
    pub fn cess(self) -> Paise {
        self.0[3]
    }
}

impl Add for Heads {
    type Output = Heads;
    fn add(self, o: Heads) -> Heads {
        let mut out = self;
        out += o;
        out
    }
}

impl AddAssign for Heads {
    fn add_assign(&mut self, o: Heads) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b;
        }
    }
}

impl Sub for Heads {
    type Output = Heads;
    fn sub(self, o: Heads) -> Heads {
        let mut out = self;
        for (a, b) in out.0.iter_mut().zip(o.0) {
            *a -= b;
        }
        out
    }
}

/// Tax on a taxable value: IGST across states, equal CGST and SGST halves within one.
pub fn tax_for(txval: Paise, rate: i64, inter_state: bool) -> Heads {
    if inter_state {
        Heads([round_div(txval * rate, 100), 0, 0, 0])
    } else {
        let half = round_div(txval * rate, 200);
        Heads([0, half, half, 0])
    }
}

/// Rounds half away from zero (amounts may be negative for reductions).
pub fn round_div(n: i64, d: i64) -> i64 {
    if n >= 0 {
        (n + d / 2) / d
    } else {
        -((-n + d / 2) / d)
    }
}

pub struct Product {
    pub hsn: &'static str,
    pub desc: &'static str,
    pub uqc: &'static str,
    pub rate: i64,
    pub min_unit: Paise,
    pub max_unit: Paise,
}

pub const PRODUCTS: &[Product] = &[
    Product {
        hsn: "847130",
        desc: "Portable computers",
        uqc: "NOS",
        rate: 18,
        min_unit: 30_000 * 100,
        max_unit: 80_000 * 100,
    },
    Product {
        hsn: "844332",
        desc: "Printers",
        uqc: "NOS",
        rate: 18,
        min_unit: 8_000 * 100,
        max_unit: 25_000 * 100,
    },
    Product {
        hsn: "482010",
        desc: "Registers and notebooks",
        uqc: "NOS",
        rate: 12,
        min_unit: 40 * 100,
        max_unit: 250 * 100,
    },
    Product {
        hsn: "300490",
        desc: "Medicaments",
        uqc: "BOX",
        rate: 5,
        min_unit: 150 * 100,
        max_unit: 900 * 100,
    },
    Product {
        hsn: "851762",
        desc: "Network switches",
        uqc: "NOS",
        rate: 18,
        min_unit: 5_000 * 100,
        max_unit: 40_000 * 100,
    },
    Product {
        hsn: "870899",
        desc: "Vehicle parts",
        uqc: "NOS",
        rate: 28,
        min_unit: 1_000 * 100,
        max_unit: 9_000 * 100,
    },
];

#[derive(Clone, Debug)]
pub struct Item {
    pub product: usize,
    pub qty: i64,
    pub txval: Paise,
    pub rate: i64,
    pub tax: Heads,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutKind {
    B2b,
    B2cl,
    B2cs,
    Exp,
}

/// One document: an outward invoice, a retail bill, a credit note or an inward invoice.
#[derive(Clone, Debug)]
pub struct Doc {
    pub kind: OutKind,
    pub num: String,
    pub date: NaiveDate,
    /// Index of the counterparty (customer for outward, supplier for inward).
    pub party: Option<usize>,
    /// Place of supply, a state code.
    pub pos: u8,
    pub items: Vec<Item>,
}

impl Doc {
    pub fn txval(&self) -> Paise {
        self.items.iter().map(|i| i.txval).sum()
    }
    pub fn tax(&self) -> Heads {
        self.items.iter().fold(Heads::default(), |acc, i| acc + i.tax)
    }
    pub fn val(&self) -> Paise {
        self.txval() + self.tax().total()
    }
}

/// What the business issued in one month.
#[derive(Clone, Debug)]
pub struct MonthOutward {
    /// B2B, B2CL and EXP invoices in number order (one series).
    pub invoices: Vec<Doc>,
    /// B2CS retail bills (their own series).
    pub retail: Vec<Doc>,
    /// CDNR credit notes issued in the month.
    pub notes: Vec<Doc>,
    /// Nil-rated and exempt supplies: (intra-state B2B nil, intra B2C exempt).
    pub nil: (Paise, Paise),
}

impl MonthOutward {
    pub fn of_kind(&self, kind: OutKind) -> impl Iterator<Item = &Doc> {
        self.invoices
            .iter()
            .chain(self.retail.iter())
            .filter(move |d| d.kind == kind)
    }

    /// Outward tax of the month as GSTR-1 reports it (invoices minus credit notes).
    pub fn tax(&self) -> Heads {
        let gross = self
            .invoices
            .iter()
            .chain(self.retail.iter())
            .fold(Heads::default(), |a, d| a + d.tax());
        self.notes.iter().fold(gross, |a, d| a - d.tax())
    }

    /// Taxable value of taxed supplies (exports excluded), net of credit notes.
    pub fn taxable(&self) -> Paise {
        let gross: Paise = self
            .invoices
            .iter()
            .chain(self.retail.iter())
            .filter(|d| d.kind != OutKind::Exp)
            .map(Doc::txval)
            .sum();
        gross - self.notes.iter().map(Doc::txval).sum::<Paise>()
    }

    pub fn exports(&self) -> Paise {
        self.of_kind(OutKind::Exp).map(Doc::txval).sum()
    }
}

#[derive(Clone, Debug)]
pub struct IsdDoc {
    pub docnum: String,
    pub date: NaiveDate,
    pub tax: Heads,
}

#[derive(Clone, Debug)]
pub struct ImportDoc {
    pub benum: String,
    pub date: NaiveDate,
    pub portcd: &'static str,
    pub txval: Paise,
    pub igst: Paise,
}

#[derive(Clone, Debug)]
pub struct TdsCredit {
    /// 0 = TDS by a government deductor, 1 = TCS by an e-commerce operator.
    pub kind: usize,
    pub base: Paise,
    pub tax: Heads,
}

/// What the business received in one month.
#[derive(Clone, Debug)]
pub struct MonthInward {
    pub invoices: Vec<Doc>,
    /// Supplier credit notes (2A `cdn`).
    pub notes: Vec<Doc>,
    /// Day of the next month on which each supplier files its GSTR-1.
    pub filing_day: Vec<u32>,
    pub isd: Vec<IsdDoc>,
    pub imports: Vec<ImportDoc>,
    pub tds: Vec<TdsCredit>,
}

impl MonthInward {
    /// ITC the GSTR-2B of the month makes available: B2B minus notes, ISD, imports.
    pub fn itc(&self) -> Heads {
        let b2b = self.invoices.iter().fold(Heads::default(), |a, d| a + d.tax());
        let notes = self.notes.iter().fold(Heads::default(), |a, d| a + d.tax());
        let isd = self.isd.iter().fold(Heads::default(), |a, d| a + d.tax);
        let imports: Paise = self.imports.iter().map(|d| d.igst).sum();
        b2b - notes + isd + Heads([imports, 0, 0, 0])
    }

    pub fn filing_date(&self, supplier: usize, month: Month) -> NaiveDate {
        month.next().day(self.filing_day[supplier])
    }
}

#[derive(Clone, Debug)]
pub struct Party {
    pub gstin: Gstin,
    pub name: String,
}

/// Planted discrepancies of one financial year (scenarios 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plants {
    /// Month whose 3B table 4A(5) OTH claims more than its GSTR-2B.
    pub itc_excess_month: Month,
    pub itc_excess: Heads,
    /// Month whose 3B outward tax is below its GSTR-1.
    pub short_payment_month: Month,
    pub short_payment: Heads,
}

/// The set-off of one return period, as the 3B `tx_pmt` and the ledgers show it.
#[derive(Clone, Debug)]
pub struct Settlement {
    pub period: Month,
    /// Outward tax reported in 3B (after the planted short payment).
    pub liability: Heads,
    /// ITC claimed in 3B (after the planted excess).
    pub claim: Heads,
    /// `used[credit][liability]`: ITC of head `credit` set off against head `liability`.
    pub used: [[Paise; 4]; 4],
    pub cash_paid: Heads,
    /// Challan deposited before filing: date, time, CIN, amounts.
    pub challan: Option<Challan>,
    pub filed: NaiveDate,
    /// Balances after the filing.
    pub itc_after: Heads,
    pub cash_after: Heads,
}

#[derive(Clone, Debug)]
pub struct Challan {
    pub date: NaiveDate,
    pub time: String,
    pub cin: String,
    pub amount: Heads,
}

impl Settlement {
    pub fn itc_used(&self) -> Heads {
        let mut out = Heads::default();
        for (credit, row) in self.used.iter().enumerate() {
            out.0[credit] = row.iter().sum();
        }
        out
    }
    /// Liability discharged by ITC, per liability head.
    pub fn discharged_by_itc(&self) -> Heads {
        let mut out = Heads::default();
        for row in &self.used {
            for (head, v) in row.iter().enumerate() {
                out.0[head] += v;
            }
        }
        out
    }
}

/// Sets `liability` off against `credit` in the order of GST-PRIMER.md: IGST
/// credit first (IGST, then CGST, then SGST), CGST credit against CGST then
/// IGST, SGST credit against SGST then IGST, cess only against cess.
pub fn set_off(credit: Heads, liability: Heads) -> [[Paise; 4]; 4] {
    let mut used = [[0; 4]; 4];
    let mut credit = credit.0;
    let mut due = liability.0;
    let order: [(usize, &[usize]); 4] = [(0, &[0, 1, 2]), (1, &[1, 0]), (2, &[2, 0]), (3, &[3])];
    for (c, targets) in order {
        for &t in targets {
            let take = credit[c].min(due[t]).max(0);
            used[c][t] += take;
            credit[c] -= take;
            due[t] -= take;
        }
    }
    used
}

pub const STATES: [u8; 10] = [27, 29, 33, 24, 7, 6, 9, 19, 32, 36];

const NAME_A: [&str; 8] = [
    "Shree", "Sai", "Kaveri", "Sahyadri", "Nilgiri", "Ganga", "Deccan", "Malabar",
];
const NAME_B: [&str; 8] = [
    "Ganesh", "Lakshmi", "Tech", "Agro", "Pharma", "Auto", "Paper", "Electro",
];
const NAME_C: [&str; 6] = [
    "Traders",
    "Industries",
    "Enterprises",
    "Distributors",
    "Solutions",
    "Suppliers",
];
const NAME_D: [&str; 3] = ["Private Limited", "LLP", "Limited"];

/// Deterministic randomness keyed by the business and a purpose.
#[derive(Clone)]
pub struct Keyed {
    key: [u8; 32],
}

impl Keyed {
    pub fn new(gstin: &Gstin, seed: u64) -> Keyed {
        let mut h = Sha256::new();
        h.update(b"gstvault-sim-v1");
        h.update(gstin.as_str().as_bytes());
        h.update(seed.to_le_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(&h.finalize());
        Keyed { key }
    }

    pub fn rng(&self, parts: &[&str]) -> ChaCha8Rng {
        let mut h = Sha256::new();
        h.update(self.key);
        for p in parts {
            h.update(p.as_bytes());
            h.update([0u8]);
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&h.finalize());
        ChaCha8Rng::from_seed(seed)
    }
}

fn pan(rng: &mut ChaCha8Rng, holder: char) -> String {
    let letter = |rng: &mut ChaCha8Rng| (b'A' + rng.random_range(0..26u8)) as char;
    let mut s = String::new();
    for _ in 0..3 {
        s.push(letter(rng));
    }
    s.push(holder);
    s.push(letter(rng));
    s.push_str(&format!("{:04}", rng.random_range(1..10000)));
    s.push(letter(rng));
    s
}

pub fn party(rng: &mut ChaCha8Rng, state: u8, holder: char) -> Party {
    let gstin = Gstin::compose(state, &pan(rng, holder), '1').expect("generated PAN fits the GSTIN pattern");
    Party {
        gstin,
        name: company_name(rng),
    }
}

pub fn company_name(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{} {} {} {}",
        NAME_A[rng.random_range(0..NAME_A.len())],
        NAME_B[rng.random_range(0..NAME_B.len())],
        NAME_C[rng.random_range(0..NAME_C.len())],
        NAME_D[rng.random_range(0..NAME_D.len())]
    )
}

/// Counterparties: the first three share the business's state, the rest do not.
pub fn parties(keyed: &Keyed, own_state: u8, tag: &str, count: usize) -> Vec<Party> {
    let mut rng = keyed.rng(&[tag]);
    let others: Vec<u8> = STATES.iter().copied().filter(|s| *s != own_state).collect();
    (0..count)
        .map(|i| {
            let state = if i < 3 {
                own_state
            } else {
                others[rng.random_range(0..others.len())]
            };
            party(&mut rng, state, 'C')
        })
        .collect()
}

/// `2526`: the FY part of document numbers.
pub fn fy_tag(month: Month) -> String {
    let fy = month.financial_year();
    format!("{:02}{:02}", fy.start_year % 100, (fy.start_year + 1) % 100)
}

fn fy_index(month: Month) -> u32 {
    (month.financial_year().first_month().months_until(month) + 1) as u32
}

fn make_item(rng: &mut ChaCha8Rng, product: usize, qty: i64, inter: bool) -> Item {
    let p = &PRODUCTS[product];
    let unit = rng.random_range(p.min_unit..=p.max_unit);
    let txval = unit * qty;
    Item {
        product,
        qty,
        txval,
        rate: p.rate,
        tax: tax_for(txval, p.rate, inter),
    }
}

fn random_items(rng: &mut ChaCha8Rng, inter: bool, max_items: usize) -> Vec<Item> {
    let n = rng.random_range(1..=max_items);
    (0..n)
        .map(|_| {
            let product = rng.random_range(0..PRODUCTS.len());
            let qty = rng.random_range(1..=12);
            make_item(rng, product, qty, inter)
        })
        .collect()
}

fn random_day(rng: &mut ChaCha8Rng, month: Month) -> NaiveDate {
    let last = month.last_day().day();
    month.day(rng.random_range(1..=last))
}

/// A credit note for `share_pct` percent of the first item of `invoice`.
pub fn credit_note(invoice: &Doc, num: String, date: NaiveDate, share_pct: i64, own_state: u8) -> Doc {
    let first = &invoice.items[0];
    let txval = round_div(first.txval * share_pct, 100).max(100);
    let inter = invoice.pos != own_state;
    let item = Item {
        product: first.product,
        qty: 0,
        txval,
        rate: first.rate,
        tax: tax_for(txval, first.rate, inter),
    };
    Doc {
        kind: OutKind::B2b,
        num,
        date,
        party: invoice.party,
        pos: invoice.pos,
        items: vec![item],
    }
}

pub fn outward(keyed: &Keyed, own_state: u8, customers: &[Party], month: Month) -> MonthOutward {
    let mut rng = keyed.rng(&["outward", &month.to_string()]);
    let customer_state = |i: usize| -> u8 { customers[i].gstin.state_code().parse().unwrap_or(own_state) };
    let others: Vec<u8> = STATES.iter().copied().filter(|s| *s != own_state).collect();
    let mut invoices = Vec::new();
    for _ in 0..rng.random_range(4..=10) {
        let party = rng.random_range(0..customers.len());
        let pos = customer_state(party);
        let items = random_items(&mut rng, pos != own_state, 3);
        let date = random_day(&mut rng, month);
        invoices.push(Doc {
            kind: OutKind::B2b,
            num: String::new(),
            date,
            party: Some(party),
            pos,
            items,
        });
    }
    for _ in 0..rng.random_range(0..=2) {
        let pos = others[rng.random_range(0..others.len())];
        // B2CL: an inter-state invoice to an unregistered buyer above ₹2.5 lakh.
        let mut item = make_item(&mut rng, 0, 1, true);
        let qty = (250_000 * 100 / item.txval) + 1;
        item = Item {
            qty,
            txval: item.txval * qty,
            ..item
        };
        item.tax = tax_for(item.txval, item.rate, true);
        let date = random_day(&mut rng, month);
        invoices.push(Doc {
            kind: OutKind::B2cl,
            num: String::new(),
            date,
            party: None,
            pos,
            items: vec![item],
        });
    }
    if rng.random_bool(0.3) {
        let qty = rng.random_range(2..=20);
        let items = vec![make_item(&mut rng, 4, qty, false)];
        let items = items
            .into_iter()
            .map(|i| Item {
                rate: 0,
                tax: Heads::default(),
                ..i
            })
            .collect();
        let date = random_day(&mut rng, month);
        invoices.push(Doc {
            kind: OutKind::Exp,
            num: String::new(),
            date,
            party: None,
            pos: 96,
            items,
        });
    }
    invoices.sort_by_key(|d| d.date);
    let tag = fy_tag(month);
    let index = fy_index(month);
    for (seq, doc) in invoices.iter_mut().enumerate() {
        doc.num = format!("SI/{tag}/{index:02}{:03}", seq + 1);
    }
    let mut retail = Vec::new();
    for _ in 0..rng.random_range(3..=8) {
        let pos = if rng.random_bool(0.8) {
            own_state
        } else {
            others[rng.random_range(0..others.len())]
        };
        let product = [2, 3, 5][rng.random_range(0..3)];
        let qty = rng.random_range(1..=6);
        let item = make_item(&mut rng, product, qty, pos != own_state);
        let date = random_day(&mut rng, month);
        retail.push(Doc {
            kind: OutKind::B2cs,
            num: String::new(),
            date,
            party: None,
            pos,
            items: vec![item],
        });
    }
    retail.sort_by_key(|d| d.date);
    for (seq, doc) in retail.iter_mut().enumerate() {
        doc.num = format!("RB/{tag}/{index:02}{:03}", seq + 1);
    }
    let mut notes = Vec::new();
    if rng.random_bool(0.3) {
        let b2b: Vec<&Doc> = invoices.iter().filter(|d| d.kind == OutKind::B2b).collect();
        let invoice = b2b[rng.random_range(0..b2b.len())];
        let date = invoice.date.max(month.day(rng.random_range(20..=28)));
        let share = rng.random_range(5..=15);
        notes.push(credit_note(
            invoice,
            format!("CN/{tag}/{index:02}001"),
            date,
            share,
            own_state,
        ));
    }
    let nil = (
        rng.random_range(0..50_000) * 100,
        rng.random_range(0..30_000) * 100 + 5_000 * 100,
    );
    MonthOutward {
        invoices,
        retail,
        notes,
        nil,
    }
}

pub fn inward(keyed: &Keyed, own_state: u8, suppliers: &[Party], month: Month) -> MonthInward {
    let mut rng = keyed.rng(&["inward", &month.to_string()]);
    let filing_day: Vec<u32> = suppliers.iter().map(|_| rng.random_range(10..=13)).collect();
    let mut invoices = Vec::new();
    for (s, supplier) in suppliers.iter().enumerate() {
        let count = if s == 0 {
            rng.random_range(1..=3)
        } else {
            rng.random_range(0..=3)
        };
        let inter = supplier.gstin.state_code() != format!("{own_state:02}");
        let prefix = &supplier.name[..3].to_ascii_uppercase();
        for k in 0..count {
            let items = random_items(&mut rng, inter, 2);
            let date = random_day(&mut rng, month);
            let num = format!("{prefix}/{}/{}{:02}", fy_tag(month), rng.random_range(100..999), k + 1);
            invoices.push(Doc {
                kind: OutKind::B2b,
                num,
                date,
                party: Some(s),
                pos: own_state,
                items,
            });
        }
    }
    let mut notes = Vec::new();
    if rng.random_bool(0.2) {
        let invoice = &invoices[rng.random_range(0..invoices.len())];
        let date = invoice.date.max(month.day(25));
        let num = format!("{}-CN", invoice.num);
        // Supplier notes: inter-state follows the supplier's state, so compute as the supplier would.
        let supplier_state: u8 = suppliers[invoice.party.unwrap_or(0)]
            .gstin
            .state_code()
            .parse()
            .unwrap_or(own_state);
        let mut note = credit_note(invoice, num, date, rng.random_range(5..=15), supplier_state);
        note.pos = own_state;
        notes.push(note);
    }
    let mut isd = Vec::new();
    if rng.random_bool(0.3) {
        let base = rng.random_range(2_000..20_000) * 100;
        isd.push(IsdDoc {
            docnum: format!("ISD{}", rng.random_range(1000..9999)),
            date: random_day(&mut rng, month),
            tax: Heads([0, base, base, 0]),
        });
    }
    let mut imports = Vec::new();
    if rng.random_bool(0.25) {
        let txval = rng.random_range(50_000..400_000) * 100;
        imports.push(ImportDoc {
            benum: format!("{}", rng.random_range(1_000_000..9_999_999)),
            date: random_day(&mut rng, month),
            portcd: ["INMAA1", "INNSA1", "INBOM4"][rng.random_range(0..3)],
            txval,
            igst: round_div(txval * 18, 100),
        });
    }
    let mut tds = Vec::new();
    if rng.random_bool(0.15) {
        let base = rng.random_range(100_000..1_000_000) * 100;
        let half = round_div(base, 100);
        tds.push(TdsCredit {
            kind: 0,
            base,
            tax: Heads([0, half, half, 0]),
        });
    }
    if rng.random_bool(0.1) {
        let base = rng.random_range(50_000..500_000) * 100;
        tds.push(TdsCredit {
            kind: 1,
            base,
            tax: Heads([round_div(base, 100), 0, 0, 0]),
        });
    }
    MonthInward {
        invoices,
        notes,
        filing_day,
        isd,
        imports,
        tds,
    }
}

/// The planted scenarios of financial year `fy` (two distinct months).
pub fn plants(keyed: &Keyed, fy: FinancialYear) -> Plants {
    let mut rng = keyed.rng(&["plants", &fy.label()]);
    let months = fy.months();
    let a = rng.random_range(0..12);
    let b = (a + rng.random_range(1..12)) % 12;
    let excess = rng.random_range(2_000..8_000) * 100;
    let short = rng.random_range(1_500..6_000) * 100;
    let split = |amount: Paise, igst: bool| {
        if igst {
            Heads([amount, 0, 0, 0])
        } else {
            Heads([0, amount / 2, amount / 2, 0])
        }
    };
    Plants {
        itc_excess_month: months[a],
        itc_excess: split(excess, rng.random_bool(0.5)),
        short_payment_month: months[b],
        short_payment: split(short, false),
    }
}

/// The planted short payment, capped at what the month actually owes.
pub fn short_payment(plants: &Plants, month: Month, outward_tax: Heads) -> Heads {
    if plants.short_payment_month != month {
        return Heads::default();
    }
    let mut out = plants.short_payment;
    for (o, t) in out.0.iter_mut().zip(outward_tax.0) {
        *o = (*o).min(t.max(0));
    }
    // Keep CGST and SGST equal so the 3B still looks like an intra-state return.
    let half = out.0[1].min(out.0[2]);
    out.0[1] = half;
    out.0[2] = half;
    out
}

/// Settles period `month` given balances before it.
pub fn settle(
    keyed: &Keyed,
    month: Month,
    liability: Heads,
    claim: Heads,
    itc_before: Heads,
    cash_before: Heads,
) -> Settlement {
    let mut rng = keyed.rng(&["settle", &month.to_string()]);
    let next = month.next();
    let filed = next.day(GSTR3B_DAY);
    let credit = itc_before + claim;
    let used = set_off(credit, liability);
    let mut discharged = Heads::default();
    for row in &used {
        for (h, v) in row.iter().enumerate() {
            discharged.0[h] += v;
        }
    }
    let cash_paid = liability - discharged;
    let mut need = Heads::default();
    for h in 0..4 {
        need.0[h] = (cash_paid.0[h] - cash_before.0[h]).max(0);
    }
    // Some months the business rounds its challan up, leaving a cash balance.
    if rng.random_bool(0.3) {
        let head = rng.random_range(0..3);
        need.0[head] += rng.random_range(1..50) * 100 * 100;
    }
    let challan = (!need.is_zero()).then(|| {
        let date = next.day(rng.random_range(17..=19));
        Challan {
            time: format!(
                "{:02}:{:02}:{:02}",
                rng.random_range(9..18),
                rng.random_range(0..60),
                rng.random_range(0..60)
            ),
            cin: format!(
                "{}{}{:08}",
                ["HDFC", "SBIN", "ICIC", "UTIB"][rng.random_range(0..4)],
                date.format("%d%m%y"),
                rng.random_range(0..100_000_000u32)
            ),
            date,
            amount: need,
        }
    });
    let itc_after = credit - {
        let mut u = Heads::default();
        for (c, row) in used.iter().enumerate() {
            u.0[c] = row.iter().sum();
        }
        u
    };
    let cash_after = cash_before + need - cash_paid;
    Settlement {
        period: month,
        liability,
        claim,
        used,
        cash_paid,
        challan,
        filed,
        itc_after,
        cash_after,
    }
}

/// The kinds of later-day change a planted event makes to a past period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The business amends one of its B2B invoices (GSTR-1 `b2ba`).
    B2baAmendment,
    /// The business reports a credit note against one of the period's invoices (GSTR-1 `cdnr`).
    LateCreditNote,
    /// A supplier files an invoice of the period late (GSTR-2A `b2b`).
    LateSupplierFiling,
}

impl EventKind {
    pub fn endpoints(self) -> Vec<&'static str> {
        match self {
            EventKind::B2baAmendment => vec!["gstr-1-b2ba", "gstr-1-summary"],
            EventKind::LateCreditNote => vec!["gstr-1-cdnr", "gstr-1-summary"],
            EventKind::LateSupplierFiling => vec!["gstr-2a-b2b", "gstr-2a-document"],
        }
    }
}

/// An event with what it changes: `index` picks the invoice (or supplier),
/// `amount_pct` the size of the change.
#[derive(Clone, Debug)]
pub struct EventSpec {
    pub effective: NaiveDate,
    pub kind: EventKind,
    pub period: Month,
    pub index: usize,
    pub amount_pct: i64,
}

/// The event planted on `date`, when `date` is an event day.
pub fn event_on(keyed: &Keyed, date: NaiveDate) -> Option<EventSpec> {
    if !EVENT_DAYS.contains(&date.day()) || Month::of_date(date) > LAST_EVENT_MONTH {
        return None;
    }
    let mut rng = keyed.rng(&["event", &date.to_string()]);
    let kind = [
        EventKind::B2baAmendment,
        EventKind::LateCreditNote,
        EventKind::LateSupplierFiling,
    ][rng.random_range(0..3)];
    let mut period = Month::of_date(date);
    for _ in 0..rng.random_range(2..=4) {
        period = period.prev();
    }
    if period < FIRST_MONTH {
        return None;
    }
    let index = rng.random_range(0..1000);
    let sign = if rng.random_bool(0.5) { 1 } else { -1 };
    let amount_pct = match kind {
        EventKind::B2baAmendment => sign * rng.random_range(2..=10),
        _ => rng.random_range(3..=15),
    };
    Some(EventSpec {
        effective: date,
        kind,
        period,
        index,
        amount_pct,
    })
}

/// The events whose period is `period`, in effective order.
pub fn events_for(keyed: &Keyed, period: Month) -> Vec<EventSpec> {
    let mut out = Vec::new();
    let mut m = period.next().next();
    for _ in 0..3 {
        for day in EVENT_DAYS {
            if let Some(e) = event_on(keyed, m.day(day)) {
                if e.period == period {
                    out.push(e);
                }
            }
        }
        m = m.next();
    }
    out
}

/// A month's B2B invoice as amended by a B2BA event.
pub fn amended(invoice: &Doc, pct: i64, own_state: u8) -> Doc {
    let mut doc = invoice.clone();
    let first = &mut doc.items[0];
    first.txval += round_div(first.txval * pct, 100);
    first.tax = tax_for(first.txval, first.rate, invoice.pos != own_state);
    doc
}

/// The invoice a late supplier filing adds to the period's GSTR-2A.
pub fn late_invoice(keyed: &Keyed, event: &EventSpec, suppliers: &[Party], own_state: u8) -> Doc {
    let mut rng = keyed.rng(&["late-invoice", &event.effective.to_string()]);
    let s = event.index % suppliers.len();
    let supplier = &suppliers[s];
    let inter = supplier.gstin.state_code() != format!("{own_state:02}");
    let items = random_items(&mut rng, inter, 2);
    let date = random_day(&mut rng, event.period);
    let prefix = supplier.name[..3].to_ascii_uppercase();
    let num = format!("{prefix}/{}/L{}", fy_tag(event.period), event.effective.format("%d%m"));
    Doc {
        kind: OutKind::B2b,
        num,
        date,
        party: Some(s),
        pos: own_state,
        items,
    }
}
