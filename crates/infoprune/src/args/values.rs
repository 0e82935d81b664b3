//! Parsers of option values shared by the commands: `auto` or a number, a count of at least 1,
//! and the budget `k` from `--keep` or `--budget`.

use crate::error::{Error, Result};
use infoprune_core::fraction::Fraction;

/// Parses `auto` or a number.
pub(crate) fn auto_or_number(flag: &str, text: &str) -> Result<Option<f64>> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| {
            Error::Usage(format!(
                "--{flag} must be 'auto' or a number, found '{text}'"
            ))
        })
}

/// A `--neighbors` value: a count of at least 1 (0 neighbours would make an empty graph).
pub(crate) fn at_least_one(text: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1, found 0".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(format!(
            "expected a whole number of at least 1, found '{text}' ({e})"
        )),
    }
}

/// `k` from `--keep` or `--budget`; `round(keep·n)` is computed exactly from the decimal given.
pub fn resolve_budget(keep: Option<&Fraction>, budget: Option<usize>, n: usize) -> Result<usize> {
    match (keep, budget) {
        (Some(f), None) => {
            if !(f.value() > 0.0 && f.value() <= 1.0) {
                return Err(Error::Usage(format!(
                    "--keep must be a fraction in (0, 1], found {f}"
                )));
            }
            Ok(f.round_times(n).max(1))
        }
        (None, Some(k)) => Ok(k),
        _ => Err(Error::Usage(
            "give exactly one of --keep and --budget".into(),
        )),
    }
}
