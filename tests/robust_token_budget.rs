//! Class 8 of the robustness pass: budgets come from exact arithmetic on the decimal the user
//! typed: `⌈ρ·T⌉` for tokens (ρ = 0.07, T = 100 keeps 7, not the 8 of `(0.07 * 100.0).ceil()`)
//! and `round(keep·n)` for `select`.

mod common;

use common::*;
use infoprune::core::fraction::Fraction;
use infoprune::core::tokens::TokenBudget;
use proptest::prelude::*;

fn mask_rows(path: &std::path::Path) -> Vec<usize> {
    let bytes = std::fs::read(path).unwrap();
    let header = infoprune::npy::read_header(path).unwrap();
    let (n, t) = (header.shape[0], header.shape[1]);
    let data = &bytes[bytes.len() - n * t..];
    data.chunks(t)
        .map(|r| r.iter().map(|&b| b as usize).sum())
        .collect()
}

#[test]
fn tokens_keep_the_decimal_share_of_t() {
    let fx = Fixture::new();
    let (x, a) = token_inputs(&fx, 2, 100, 2);
    for (keep, expected) in [
        ("0.07", 7),
        ("0.14", 14),
        ("0.29", 29),
        ("0.57", 57),
        ("0.071", 8),
    ] {
        let out = fx.s(&format!("m{keep}.npy"));
        let o = infoprune(&[
            "tokens",
            "--features",
            &x,
            "--saliency",
            &a,
            "--keep",
            keep,
            "--out",
            &out,
            "--backend",
            "cpu",
            "-q",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(
            mask_rows(std::path::Path::new(&out)),
            [expected, expected],
            "{keep}"
        );
    }
}

#[test]
fn select_rounds_the_decimal_product() {
    let fx = Fixture::new();
    let e = fx.embeddings("e.npy", &clustered(100, 3, 1));
    // 0.145 · 100 = 14.5 exactly, which rounds to 15; the float product is 14.499999999999998.
    assert_eq!((0.145f64 * 100.0).round(), 14.0);
    let o = infoprune(&[
        "select",
        "--embeddings",
        &e,
        "--keep",
        "0.145",
        "--out",
        &fx.s("k.npy"),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(read_keep(&fx.path("k.npy")).len(), 15);
}

proptest! {
    /// ⌈ρT⌉ for ρ = a/10^s is the least c with c·10^s ≥ a·T, whether ρ arrives as the text the
    /// user typed or as the f64 a library caller passes.
    #[test]
    fn token_budgets_are_exact(raw in 1u64..=10_000, s in 0u32..=4, t in 1usize..5_000) {
        let scale = 10u64.pow(s);
        // Every numerator 1..=10^s, without rejecting draws.
        let a = (raw - 1) % scale + 1;
        // a = 10^s is ρ = 1, which has no "0.…" form with s digits.
        let text = if s == 0 || a == scale {
            (a / scale).to_string()
        } else {
            format!("0.{:0width$}", a, width = s as usize)
        };
        let exact = (a as u128 * t as u128).div_ceil(scale as u128) as usize;
        let parsed: Fraction = text.parse().unwrap();
        prop_assert_eq!(parsed.ceil_times(t).clamp(1, t), exact.clamp(1, t));
        let ratio: f64 = text.parse().unwrap();
        prop_assert_eq!(TokenBudget::Ratio(ratio).tokens(t).unwrap(), exact.clamp(1, t));
    }
}
