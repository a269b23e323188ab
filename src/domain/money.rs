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

/// Rupees as a JSON number (e.g. 1234.5) or a numeric string to paise,
/// rounding half away from zero, exactly: the decimal digits as written are
/// read, never a binary float (0.285 is 29 paise, not the 28 that
/// 0.28499999999999998 × 100 gives). Anything that is not a number is 0.
pub fn paise_of(value: &serde_json::Value) -> i64 {
    match value {
        // serde_json writes a float back as the shortest text that reads as
        // the same float, which is the text the portal sent.
        serde_json::Value::Number(n) => paise_of_decimal(&n.to_string()).unwrap_or(0),
        serde_json::Value::String(s) => paise_of_decimal(s.trim()).unwrap_or(0),
        _ => 0,
    }
}

/// A decimal number (`-1234.565`, `12`, `1.5e3`, `2E-2`) in rupees to paise,
/// rounded half away from zero; None when it is not a decimal number or
/// does not fit.
pub fn paise_of_decimal(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (whole.is_empty() && fraction.is_empty()) || !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // All digits, and where the decimal point falls in them once the
    // exponent has moved it.
    let digits: Vec<u8> = whole.bytes().chain(fraction.bytes()).map(|b| b - b'0').collect();
    let point = whole.len() as i64 + i64::from(exponent);
    // Paise are the digits up to two places after the point; the next one rounds.
    let digit = |i: i64| -> u8 {
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut paise: i64 = 0;
    for i in 0..point + 2 {
        paise = paise.checked_mul(10)?.checked_add(i64::from(digit(i)))?;
    }
    if digit(point + 2) >= 5 {
        paise = paise.checked_add(1)?;
    }
    Some(if negative { -paise } else { paise })
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

    #[test]
    fn amounts_are_read_exactly() {
        // 0.285 is 0.28499999999999998 as a float: f64 arithmetic gave 28.
        assert_eq!(paise_of(&serde_json::json!(0.285)), 29);
        assert_eq!(paise_of(&serde_json::json!(-0.285)), -29);
        assert_eq!(paise_of(&serde_json::json!(1.005)), 101);
        assert_eq!(paise_of(&serde_json::json!(216.32)), 21632);
        assert_eq!(paise_of(&serde_json::json!(12)), 1200);
        assert_eq!(paise_of(&serde_json::json!("1234.565")), 123457);
        assert_eq!(paise_of(&serde_json::json!(" 90904.84 ")), 9090484);
        assert_eq!(paise_of(&serde_json::json!(1.5e3)), 150000);
        assert_eq!(paise_of(&serde_json::json!(1e-7)), 0);
        assert_eq!(paise_of(&serde_json::json!(0.004)), 0);
        assert_eq!(paise_of(&serde_json::json!(0.005)), 1);
        assert_eq!(paise_of(&serde_json::json!("abc")), 0);
        assert_eq!(paise_of(&serde_json::json!(null)), 0);
        assert_eq!(paise_of_decimal("."), None);
        assert_eq!(paise_of_decimal("1.2.3"), None);
        assert_eq!(paise_of_decimal("2E-2"), Some(2));
        assert_eq!(paise_of_decimal("9999999999999999"), Some(999_999_999_999_999_900));
        assert_eq!(paise_of_decimal("0000000000000000000000001.5"), Some(150));
        assert_eq!(paise_of_decimal("999999999999999999999"), None);
    }
}
