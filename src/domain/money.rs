//! Money as GST evidence holds it: amounts in paise (`i64`), so sums are
//! exact, by tax head ([`Heads`]: IGST, CGST, SGST, cess); read from the
//! portal's rupee figures ([`paise_of`]) and written for people with Indian
//! digit grouping ([`rupees`]: 12,34,567.00). Pure: no IO.

use serde::Serialize;

/// Amounts by tax head, in paise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Heads {
    pub igst: i64,
    pub cgst: i64,
    pub sgst: i64,
    pub cess: i64,
}

impl Heads {
    pub fn total(&self) -> i64 {
        self.igst + self.cgst + self.sgst + self.cess
    }

    pub fn minus(&self, other: &Heads) -> Heads {
        Heads {
            igst: self.igst - other.igst,
            cgst: self.cgst - other.cgst,
            sgst: self.sgst - other.sgst,
            cess: self.cess - other.cess,
        }
    }

    pub fn plus(&self, other: &Heads) -> Heads {
        Heads {
            igst: self.igst + other.igst,
            cgst: self.cgst + other.cgst,
            sgst: self.sgst + other.sgst,
            cess: self.cess + other.cess,
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Heads::default()
    }
}

/// Formats paise as rupees with Indian digit grouping: 123456789 → "12,34,567.89".
pub fn rupees(paise: i64) -> String {
    let negative = paise < 0;
    let abs = paise.unsigned_abs();
    let whole = (abs / 100).to_string();
    let fraction = abs % 100;
    let grouped = if whole.len() <= 3 {
        whole
    } else {
        let (head, last3) = whole.split_at(whole.len() - 3);
        let mut parts: Vec<String> = Vec::new();
        let mut rest = head.to_string();
        while rest.len() > 2 {
            let split = rest.len() - 2;
            parts.insert(0, rest[split..].to_string());
            rest.truncate(split);
        }
        if !rest.is_empty() {
            parts.insert(0, rest);
        }
        format!("{},{}", parts.join(","), last3)
    };
    format!("{}{}.{:02}", if negative { "-" } else { "" }, grouped, fraction)
}

/// Rupees as a JSON number (e.g. 1234.5) to paise, rounding half away from zero.
pub fn paise_of(value: &serde_json::Value) -> i64 {
    match value {
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i * 100
            } else {
                (n.as_f64().unwrap_or(0.0) * 100.0).round() as i64
            }
        }
        serde_json::Value::String(s) => s.trim().parse::<f64>().map(|f| (f * 100.0).round() as i64).unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indian_grouping() {
        assert_eq!(rupees(123456700), "12,34,567.00");
        assert_eq!(rupees(0), "0.00");
        assert_eq!(rupees(99), "0.99");
        assert_eq!(rupees(100000), "1,000.00");
        assert_eq!(rupees(10000000), "1,00,000.00");
        assert_eq!(rupees(-123456789012), "-1,23,45,67,890.12");
        assert_eq!(paise_of(&serde_json::json!(376705.19)), 37670519);
        assert_eq!(paise_of(&serde_json::json!(0.3)), 30);
    }
}
