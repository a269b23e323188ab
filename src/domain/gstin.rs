//! The GSTIN newtype: a 15-character GST identification number checked once
//! against the documented pattern and the GSTN check character.
//!
//! Everything past the config parser holds a [`Gstin`], never a bare string,
//! so no code path can send an unchecked identifier upstream. This module does
//! no IO.

use std::fmt;
use std::str::FromStr;

/// A validated GSTIN, stored in upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gstin(String);

/// Why a string is not a GSTIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GstinError {
    #[error("GSTIN {0:?} must be 15 characters, got {1}")]
    Length(String, usize),
    #[error("GSTIN {0:?} does not match the GSTIN pattern (2-digit state, PAN, entity, Z, check)")]
    Pattern(String),
    #[error("GSTIN {0:?} fails its check character: expected {1:?}, found {2:?}")]
    CheckDigit(String, char, char),
}

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value_of(byte: u8) -> Option<u32> {
    ALPHABET.iter().position(|&c| c == byte).map(|p| p as u32)
}

/// The check character for the first 14 characters of a GSTIN (GST-PRIMER.md:
/// weights 1,2,1,2,… from the left, add quotient and remainder of each product
/// by 36, check = (36 − sum mod 36) mod 36).
pub fn check_character(first14: &str) -> Option<char> {
    let mut sum = 0u32;
    for (index, byte) in first14.bytes().enumerate() {
        let value = value_of(byte.to_ascii_uppercase())?;
        let product = value * if index % 2 == 0 { 1 } else { 2 };
        sum += product / 36 + product % 36;
    }
    let check = (36 - sum % 36) % 36;
    Some(ALPHABET[check as usize] as char)
}

fn matches_pattern(s: &[u8]) -> bool {
    // Regular pattern: 2 digits, 5 letters, 4 digits, 1 letter, [1-9A-Z], [CZ], [0-9A-Z].
    let regular = s[0..2].iter().all(u8::is_ascii_digit)
        && s[2..7].iter().all(u8::is_ascii_alphabetic)
        && s[7..11].iter().all(u8::is_ascii_digit)
        && s[11].is_ascii_alphabetic()
        && (s[12].is_ascii_alphabetic() || (b'1'..=b'9').contains(&s[12]))
        && matches!(s[13], b'C' | b'Z')
        && s[14].is_ascii_alphanumeric();
    // Special pattern (UN bodies, embassies): 4 digits, 3 letters, 5 digits, [UN]{2}, [0-9A-Z].
    let special = s[0..4].iter().all(u8::is_ascii_digit)
        && s[4..7].iter().all(u8::is_ascii_alphabetic)
        && s[7..12].iter().all(u8::is_ascii_digit)
        && matches!(s[12], b'U' | b'N')
        && matches!(s[13], b'U' | b'N')
        && s[14].is_ascii_alphanumeric();
    regular || special
}

impl Gstin {
    /// Parses and validates a GSTIN (case-insensitive, stored upper case).
    ///
    /// Fails when the length, the documented pattern or the check character is wrong.
    pub fn parse(input: &str) -> Result<Gstin, GstinError> {
        let upper = input.trim().to_ascii_uppercase();
        let count = upper.chars().count();
        if count != 15 || upper.len() != 15 {
            return Err(GstinError::Length(input.to_string(), count));
        }
        if !matches_pattern(upper.as_bytes()) {
            return Err(GstinError::Pattern(input.to_string()));
        }
        let expected = check_character(&upper[..14]).ok_or_else(|| GstinError::Pattern(input.to_string()))?;
        let found = upper.as_bytes()[14] as char;
        if expected != found {
            return Err(GstinError::CheckDigit(input.to_string(), expected, found));
        }
        Ok(Gstin(upper))
    }

    /// Builds a valid GSTIN from a state code, a PAN and an entity number by
    /// computing its check character (used by the simulator and test data).
    pub fn compose(state: u8, pan: &str, entity: char) -> Result<Gstin, GstinError> {
        let first14 = format!("{state:02}{}{}Z", pan.to_ascii_uppercase(), entity.to_ascii_uppercase());
        let check = check_character(&first14).ok_or_else(|| GstinError::Pattern(first14.clone()))?;
        Gstin::parse(&format!("{first14}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-digit state code (place-of-supply code of the registration).
    pub fn state_code(&self) -> &str {
        &self.0[..2]
    }

    /// The PAN embedded in a regular GSTIN.
    pub fn pan(&self) -> &str {
        &self.0[2..12]
    }
}

impl fmt::Display for Gstin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Gstin {
    type Err = GstinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Gstin::parse(s)
    }
}

impl serde::Serialize for Gstin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_valid_gstins_pass() {
        for g in [
            "27AAPFU0939F1ZV",
            "24ABKCS2033B1ZV",
            "32CHAND3868A1Z3",
            "33AOSPA7307Q1ZI",
            "06AAAAA0000A1Z6",
        ] {
            assert_eq!(Gstin::parse(g).unwrap().as_str(), g);
        }
        assert!(Gstin::parse("27aapfu0939f1zv").is_ok());
    }

    #[test]
    fn invalid_gstins_fail_with_reason() {
        assert!(matches!(Gstin::parse("29AAACQ3770E000"), Err(GstinError::Pattern(_))));
        assert!(matches!(
            Gstin::parse("27AAPFU0939F1ZW"),
            Err(GstinError::CheckDigit(_, 'V', 'W'))
        ));
        assert!(matches!(Gstin::parse("27AAPFU0939F1Z"), Err(GstinError::Length(_, 14))));
    }

    #[test]
    fn compose_produces_valid_check() {
        let g = Gstin::compose(27, "AAPFU0939F", '1').unwrap();
        assert_eq!(g.as_str(), "27AAPFU0939F1ZV");
    }
}
