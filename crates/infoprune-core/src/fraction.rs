//! Fractions as the user wrote them: `0.07` is kept as exactly 7/100, so that budgets such as
//! `⌈ρ·T⌉` and `round(keep·n)` come out as the decimal says (`⌈0.07·100⌉ = 7`), where the
//! binary float (0.07000000000000000666…) would give 8.

use num_bigint::BigUint;
use std::fmt;
use std::str::FromStr;

/// Largest power of ten in an exact value's exponent; beyond it the value is kept as a float only
/// (such a number is far outside any fraction in `(0, 1]`, and its exact form would be huge).
const MAX_EXPONENT: i64 = 4096;

/// A number given in decimal notation, with its exact value `numerator / 10^scale` beside the
/// nearest `f64`.
///
/// Parsed from text (`0.07`, `7e-2`, `.5`, `1`), or from an `f64` through its shortest decimal
/// form (what `{}` prints, which is what was typed for any value a person types).
#[derive(Debug, Clone, PartialEq)]
pub struct Fraction {
    value: f64,
    /// The exact value when it is a non-negative decimal of moderate exponent.
    exact: Option<(BigUint, u32)>,
}

/// Why a text is not a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFractionError(String);

impl fmt::Display for ParseFractionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected a decimal number such as 0.25, found '{}'",
            self.0
        )
    }
}

impl std::error::Error for ParseFractionError {}

/// `digits` (ASCII decimal digits) × 10^`exponent` as `numerator / 10^scale`, or `None` when the
/// exponent is out of range.
fn exact_decimal(digits: &str, exponent: i64) -> Option<(BigUint, u32)> {
    if exponent.abs() > MAX_EXPONENT {
        return None;
    }
    let mantissa = if digits.is_empty() {
        BigUint::from(0u32)
    } else {
        BigUint::parse_bytes(digits.as_bytes(), 10)?
    };
    if exponent >= 0 {
        Some((mantissa * BigUint::from(10u32).pow(exponent as u32), 0))
    } else {
        Some((mantissa, (-exponent) as u32))
    }
}

/// Splits `[+]digits[.digits][(e|E)[+|-]digits]` into its digits and the power of ten they are
/// scaled by; `None` for anything else (signs, `nan`, `inf`, hex).
fn parse_decimal(text: &str) -> Option<(String, i64)> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let exponent = exponent.checked_sub(i64::try_from(fraction.len()).ok()?)?;
    Some((format!("{whole}{fraction}"), exponent))
}

impl FromStr for Fraction {
    type Err = ParseFractionError;

    /// Anything Rust's `f64` parser accepts (so `-0.1`, `nan` and `inf` parse, for the caller's
    /// range check to name); the exact value is kept for non-negative decimals.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let value: f64 = trimmed
            .parse()
            .map_err(|_| ParseFractionError(text.to_string()))?;
        let exact =
            parse_decimal(trimmed).and_then(|(digits, exponent)| exact_decimal(&digits, exponent));
        Ok(Self { value, exact })
    }
}

impl From<f64> for Fraction {
    /// Through the shortest decimal that reads back as `value`: `0.07_f64` is 7/100.
    fn from(value: f64) -> Self {
        let exact = if value.is_finite() && value >= 0.0 {
            parse_decimal(&format!("{value:e}"))
                .and_then(|(digits, exponent)| exact_decimal(&digits, exponent))
        } else {
            None
        };
        Self { value, exact }
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)
    }
}

impl Fraction {
    /// The nearest `f64`.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// `(numerator · count) divmod 10^scale`, exactly; `None` without an exact value.
    fn times(&self, count: usize) -> Option<(BigUint, BigUint, BigUint)> {
        let (numerator, scale) = self.exact.as_ref()?;
        let denominator = BigUint::from(10u32).pow(*scale);
        let product = numerator * BigUint::from(count);
        Some((
            &product / &denominator,
            &product % &denominator,
            denominator,
        ))
    }

    /// `⌈self · count⌉`, exactly (saturating at `usize::MAX`); the float product's ceiling for a
    /// value with no exact form (negative, NaN, infinite).
    pub fn ceil_times(&self, count: usize) -> usize {
        match self.times(count) {
            Some((quotient, remainder, _)) => {
                let up = usize::from(remainder != BigUint::from(0u32));
                to_usize(&quotient).saturating_add(up)
            }
            None => (self.value * count as f64).ceil() as usize,
        }
    }

    /// `round(self · count)` with halves away from zero (as `f64::round`), exactly (saturating at
    /// `usize::MAX`); the float product's rounding for a value with no exact form.
    pub fn round_times(&self, count: usize) -> usize {
        match self.times(count) {
            Some((quotient, remainder, denominator)) => {
                let up = usize::from(remainder * 2u32 >= denominator);
                to_usize(&quotient).saturating_add(up)
            }
            None => (self.value * count as f64).round() as usize,
        }
    }
}

fn to_usize(value: &BigUint) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(text: &str) -> Fraction {
        text.parse().unwrap()
    }

    #[test]
    fn budgets_follow_the_decimal_not_the_float() {
        // The float products are 7.000000000000001 and 14.000000000000002.
        assert_eq!((0.07f64 * 100.0).ceil(), 8.0);
        assert_eq!(f("0.07").ceil_times(100), 7);
        assert_eq!(f("0.14").ceil_times(100), 14);
        assert_eq!(Fraction::from(0.07).ceil_times(100), 7);
        assert_eq!(Fraction::from(0.14).ceil_times(100), 14);
        assert_eq!(f("7e-2").ceil_times(100), 7);
        assert_eq!(f(".5").ceil_times(3), 2);
        assert_eq!(f("1").ceil_times(9), 9);
        assert_eq!(f("0.071").ceil_times(100), 8);
        // 0.145 · 1000 = 145 exactly; 0.0125 · 200 = 2.5 rounds up.
        assert_eq!(f("0.145").round_times(1000), 145);
        assert_eq!(f("0.0125").round_times(200), 3);
        assert_eq!(f("0.0124").round_times(200), 2);
    }

    #[test]
    fn anything_f64_reads_parses_and_the_rest_is_refused() {
        assert_eq!(f("-0.1").value(), -0.1);
        assert!(f("nan").value().is_nan());
        assert!(f("inf").value().is_infinite());
        assert!("0.1.2".parse::<Fraction>().is_err());
        assert!("".parse::<Fraction>().is_err());
        assert!("x".parse::<Fraction>().is_err());
        assert_eq!(f("1e-99999").value(), 0.0);
    }

    proptest! {
        /// For ρ = a/10^s and any T: ⌈ρT⌉ is the least c with c·10^s ≥ a·T, and
        /// round(ρT) the c with |2(c·10^s − a·T)| ≤ 10^s, ties up.
        #[test]
        fn ceil_and_round_are_exact(a in 0u64..=1_000_000, s in 0u32..=6, t in 0usize..100_000) {
            let text = format!("{}e-{s}", a);
            let r = f(&text);
            let scale = 10u128.pow(s);
            let target = a as u128 * t as u128;
            let c = r.ceil_times(t) as u128;
            prop_assert!(c * scale >= target);
            prop_assert!(c == 0 || (c - 1) * scale < target);
            let q = r.round_times(t) as u128;
            prop_assert!(2 * (q * scale) + scale > 2 * target);
            prop_assert!(2 * (q * scale) <= 2 * target + scale);
            // The nearest f64 to a/10^s (at most 7 digits) prints as that decimal, so the float
            // gives the same budgets.
            let float = Fraction::from(a as f64 / scale as f64);
            prop_assert_eq!(float.ceil_times(t) as u128, c);
            prop_assert_eq!(float.round_times(t) as u128, q);
        }
    }
}
