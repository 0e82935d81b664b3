//! SIMS importance sampling (SPEC §3): keep exactly `k` samples, drawn at random with weights that
//! favour hard samples when keeping most of the data and easy ones when keeping little.
//!
//! It works on **any** score vector. By default ([`Orientation::HighIsEasy`]) a high score means an
//! *easy* sample, as for SIM (high SIM = easy, clean, agreed on). For scores where high means *hard*
//! (EL2N, loss, forgetting, …) pass [`Orientation::HighIsHard`]; the sampler then ranks by the negated
//! score.
//!
//! 1. Position `u_i ∈ [0, 1]` = rank of the (oriented) score, ascending, divided by `n − 1` (0-based;
//!    tied scores share their mean rank; `n = 1` gives `0.5`). `u = 0` is the hardest, `u = 1` the
//!    easiest.
//! 2. With keep ratio `r = k/n` and pruning ratio `a = 1 − r`, the Beta mean is
//!    `μ(a) = μ₀ + (μ₁ − μ₀)·a^c` (ours: `μ₀ = 0.35`, `μ₁ = 0.80`, `c = 2`) and the concentration
//!    `α + β = 16`, so `α = 16μ`, `β = 16(1 − μ)`.
//! 3. Weights `w_i = BetaPDF(u_i; α, β)`, evaluated in log space (`u` clamped to `[1e-6, 1 − 1e-6]`,
//!    `ln Γ` by the Lanczos approximation in [`ln_gamma`]).
//! 4. Draw without replacement proportional to `w` with weighted random keys (Efraimidis–Spirakis):
//!    `U ~ Uniform(0, 1]`, keep the largest `ln(U)/w`. It is compared through the equivalent
//!    `ln(−ln U) − ln w` (smallest kept, ties to the smaller index), which never overflows.
//!    The generator is a seeded `ChaCha8Rng`.
//!
//! **Hybrid (labels given).** `k_c = round(λ·k)` of the budget (λ default 0.5, **ours**: rounding half
//! away from zero) is drawn inside classes: class quotas ∝ class size by [`largest_remainder`], each
//! class sampled with `u` computed within the class. The remaining `k − k_c` are drawn from all samples
//! not yet chosen, with `u` computed over the **whole** dataset. Both stages use the same `α, β` (set
//! by the global pruning ratio) and one generator: the class stage consumes one uniform per member of
//! each class, classes in ascending label order, members in index order; then the global stage one per
//! remaining sample in index order. Without labels the whole budget is drawn globally.

use crate::budget::largest_remainder;
use crate::error::{check_finite, CoreError, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Which end of the score is "easy".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Orientation {
    /// High score = easy sample (SIM; default).
    #[default]
    HighIsEasy,
    /// High score = hard sample (EL2N, loss, entropy, forgetting, …): ranks use the negated score.
    HighIsHard,
}

/// Options for [`sims_sample`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimsConfig {
    /// Budget: exactly `k` samples are returned (`1 ≤ k ≤ n`).
    pub k: usize,
    /// Seed of the `ChaCha8Rng`.
    pub seed: u64,
    /// Fraction `λ ∈ [0, 1]` of the budget drawn inside classes when labels are given (default 0.5).
    pub class_fraction: f64,
    /// Direction of the score (default [`Orientation::HighIsEasy`]).
    pub orientation: Orientation,
    /// Beta mean at no pruning, `μ₀ ∈ (0, 1)` (default 0.35).
    pub mu0: f64,
    /// Beta mean at full pruning, `μ₁ ∈ (0, 1)` (default 0.80).
    pub mu1: f64,
    /// Exponent `c > 0` of the pruning ratio in `μ(a)` (default 2).
    pub exponent: f64,
    /// Concentration `α + β > 0` (default 16).
    pub concentration: f64,
}

impl SimsConfig {
    /// The defaults for a budget `k` and a seed.
    pub fn new(k: usize, seed: u64) -> Self {
        Self {
            k,
            seed,
            class_fraction: 0.5,
            orientation: Orientation::HighIsEasy,
            mu0: 0.35,
            mu1: 0.80,
            exponent: 2.0,
            concentration: 16.0,
        }
    }

    /// Sets `λ`.
    pub fn class_fraction(mut self, lambda: f64) -> Self {
        self.class_fraction = lambda;
        self
    }

    /// Sets the concentration `α + β`.
    pub fn concentration(mut self, kappa: f64) -> Self {
        self.concentration = kappa;
        self
    }

    /// Sets the orientation.
    pub fn orientation(mut self, orientation: Orientation) -> Self {
        self.orientation = orientation;
        self
    }

    /// `(α, β)` of the Beta distribution for pruning ratio `a`: `μ = μ₀ + (μ₁ − μ₀)·a^c`,
    /// `α = κμ`, `β = κ(1 − μ)`.
    pub fn beta_params(&self, pruning_ratio: f64) -> (f64, f64) {
        let mu = self.mu0 + (self.mu1 - self.mu0) * pruning_ratio.powf(self.exponent);
        (self.concentration * mu, self.concentration * (1.0 - mu))
    }

    fn validate(&self, n: usize) -> Result<()> {
        if self.k == 0 || self.k > n {
            return Err(CoreError::InvalidBudget { k: self.k, n });
        }
        let bad = |name: &'static str, value: f64, reason: &'static str| {
            Err(CoreError::InvalidParameter {
                name,
                value: value.to_string(),
                reason,
            })
        };
        if !(0.0..=1.0).contains(&self.class_fraction) {
            return bad("class-fraction", self.class_fraction, "must lie in [0, 1]");
        }
        for (name, v) in [("mu0", self.mu0), ("mu1", self.mu1)] {
            if !(v > 0.0 && v < 1.0) {
                return bad(name, v, "the Beta mean must lie in (0, 1)");
            }
        }
        if !(self.exponent > 0.0 && self.exponent.is_finite()) {
            return bad("exponent", self.exponent, "must be finite and positive");
        }
        if !(self.concentration > 0.0 && self.concentration.is_finite()) {
            return bad(
                "concentration",
                self.concentration,
                "must be finite and positive",
            );
        }
        Ok(())
    }
}

/// `ln Γ(x)` for `x > 0` by the Lanczos approximation (`g = 7`, 9 coefficients; relative error
/// around `1e-15`), with the reflection formula below `0.5`.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x)Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, &c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `ln BetaPDF(u; α, β)` with `u` clamped to `[1e-6, 1 − 1e-6]`.
pub fn beta_ln_pdf(u: f64, alpha: f64, beta: f64) -> f64 {
    let u = u.clamp(1e-6, 1.0 - 1e-6);
    (alpha - 1.0) * u.ln() + (beta - 1.0) * (1.0 - u).ln() - ln_gamma(alpha) - ln_gamma(beta)
        + ln_gamma(alpha + beta)
}

/// Positions `u_i = rank_i / (n − 1)` of `scores` sorted ascending (0-based ranks; ties share their
/// mean rank; a single score gets 0.5).
pub fn rank_positions(scores: &[f32]) -> Vec<f64> {
    let n = scores.len();
    if n == 1 {
        return vec![0.5];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    let mut u = vec![0.0; n];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mean_rank = (start + end - 1) as f64 / 2.0;
        for &i in &order[start..end] {
            u[i] = mean_rank / (n - 1) as f64;
        }
        start = end;
    }
    u
}

/// Class quotas of the class-dependent stage: `(label, quota)` in ascending label order, quotas by
/// [`largest_remainder`] of `round(λ·k)` over the class sizes.
pub fn class_quotas(labels: &[i64], k: usize, class_fraction: f64) -> Vec<(i64, usize)> {
    let groups = group_by_label(labels);
    let sizes: Vec<usize> = groups.values().map(Vec::len).collect();
    let quotas = largest_remainder(&sizes, class_budget(k, class_fraction));
    groups.keys().copied().zip(quotas).collect()
}

fn class_budget(k: usize, class_fraction: f64) -> usize {
    ((class_fraction * k as f64).round() as usize).min(k)
}

fn group_by_label(labels: &[i64]) -> BTreeMap<i64, Vec<usize>> {
    let mut groups: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, &y) in labels.iter().enumerate() {
        groups.entry(y).or_default().push(i);
    }
    groups
}

/// Draws `m` of `members` (indices into the dataset) proportional to `exp(ln_w[j])`, by weighted
/// random keys; consumes one uniform per member, in order.
fn weighted_draw(members: &[usize], ln_w: &[f64], m: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = members
        .iter()
        .zip(ln_w)
        .map(|(&i, &lw)| {
            let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
            ((-u.ln()).ln() - lw, i)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().take(m).map(|(_, i)| i).collect()
}

/// SIMS: exactly `config.k` indices of `scores`, sorted ascending (see the module docs). `labels`
/// (length `n`, any integers) switch on the hybrid class stage.
pub fn sims_sample(
    scores: &[f32],
    labels: Option<&[i64]>,
    config: &SimsConfig,
) -> Result<Vec<usize>> {
    let n = scores.len();
    if n == 0 {
        return Err(CoreError::Empty { what: "scores" });
    }
    check_finite("scores", scores)?;
    config.validate(n)?;
    if let Some(labels) = labels {
        if labels.len() != n {
            return Err(CoreError::ShapeMismatch {
                what: "labels vs. scores".into(),
                expected: n,
                found: labels.len(),
            });
        }
    }
    let oriented: Vec<f32> = match config.orientation {
        Orientation::HighIsEasy => scores.to_vec(),
        Orientation::HighIsHard => scores.iter().map(|&s| -s).collect(),
    };
    let k = config.k;
    let (alpha, beta) = config.beta_params(1.0 - k as f64 / n as f64);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut chosen = vec![false; n];
    let mut taken = 0;

    if let Some(labels) = labels {
        let groups = group_by_label(labels);
        let sizes: Vec<usize> = groups.values().map(Vec::len).collect();
        let quotas = largest_remainder(&sizes, class_budget(k, config.class_fraction));
        for (members, &quota) in groups.values().zip(&quotas) {
            let class_scores: Vec<f32> = members.iter().map(|&i| oriented[i]).collect();
            let ln_w: Vec<f64> = rank_positions(&class_scores)
                .into_iter()
                .map(|u| beta_ln_pdf(u, alpha, beta))
                .collect();
            for i in weighted_draw(members, &ln_w, quota, &mut rng) {
                chosen[i] = true;
                taken += 1;
            }
        }
    }

    let rest = k - taken;
    if rest > 0 {
        let u = rank_positions(&oriented);
        let remaining: Vec<usize> = (0..n).filter(|&i| !chosen[i]).collect();
        let ln_w: Vec<f64> = remaining
            .iter()
            .map(|&i| beta_ln_pdf(u[i], alpha, beta))
            .collect();
        for i in weighted_draw(&remaining, &ln_w, rest, &mut rng) {
            chosen[i] = true;
        }
    }
    Ok((0..n).filter(|&i| chosen[i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_known_values() {
        let fact = |m: u64| (1..=m).map(|v| v as f64).product::<f64>();
        for m in 1..15u64 {
            // Γ(m) = (m − 1)!
            assert!((ln_gamma(m as f64) - fact(m - 1).ln()).abs() < 1e-10, "{m}");
        }
        let sqrt_pi_ln = 0.5 * std::f64::consts::PI.ln();
        assert!((ln_gamma(0.5) - sqrt_pi_ln).abs() < 1e-12);
        // Γ(0.25) = 3.625609908221908...
        assert!((ln_gamma(0.25) - 3.625_609_908_221_908_f64.ln()).abs() < 1e-12);
        // Γ(1.5) = √π / 2
        assert!((ln_gamma(1.5) - (sqrt_pi_ln - 2f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn beta_pdf_integrates_to_one_and_peaks_at_the_mode() {
        let (a, b) = (5.6, 10.4);
        let steps = 20_000;
        let h = 1.0 / steps as f64;
        let integral: f64 = (0..steps)
            .map(|j| beta_ln_pdf((j as f64 + 0.5) * h, a, b).exp() * h)
            .sum();
        assert!((integral - 1.0).abs() < 1e-6, "{integral}");
        // Beta(2, 2) pdf = 6u(1 − u).
        assert!((beta_ln_pdf(0.3, 2.0, 2.0).exp() - 6.0 * 0.3 * 0.7).abs() < 1e-12);
        let cfg = SimsConfig::new(1, 0);
        let (a0, b0) = cfg.beta_params(0.0);
        assert!((a0 - 16.0 * 0.35).abs() < 1e-12 && (a0 + b0 - 16.0).abs() < 1e-12);
        let (a1, _) = cfg.beta_params(1.0);
        assert!((a1 - 16.0 * 0.8).abs() < 1e-12);
        let (ah, _) = cfg.beta_params(0.5);
        assert!((ah - 16.0 * (0.35 + 0.45 * 0.25)).abs() < 1e-12);
    }

    #[test]
    fn rank_positions_with_ties_and_one_sample() {
        assert_eq!(rank_positions(&[3.0]), vec![0.5]);
        assert_eq!(rank_positions(&[3.0, 1.0, 2.0]), vec![1.0, 0.0, 0.5]);
        // Ranks 0,1 tie at 0.5 -> 0.5/3; rank 2, 3.
        let u = rank_positions(&[1.0, 1.0, 5.0, 7.0]);
        assert_eq!(u, vec![0.5 / 3.0, 0.5 / 3.0, 2.0 / 3.0, 1.0]);
    }

    fn labels_for(n: usize) -> Vec<i64> {
        (0..n).map(|i| ((i * 7) % 5) as i64 % 3).collect()
    }

    #[test]
    fn budget_is_exact() {
        for n in [1usize, 2, 3, 10, 37, 200] {
            let scores: Vec<f32> = (0..n).map(|i| ((i * 13) % 7) as f32).collect();
            let labels = labels_for(n);
            let mut ks = vec![1, n, n / 2, n.saturating_sub(1), (n * 9) / 10];
            ks.retain(|&k| k >= 1);
            for k in ks {
                for lambda in [0.0, 0.3, 0.5, 1.0] {
                    for labels in [None, Some(labels.as_slice())] {
                        let cfg = SimsConfig::new(k, 11).class_fraction(lambda);
                        let s = sims_sample(&scores, labels, &cfg).unwrap();
                        assert_eq!(s.len(), k, "n={n} k={k} λ={lambda}");
                        assert!(s.windows(2).all(|w| w[0] < w[1]));
                        assert!(s.iter().all(|&i| i < n));
                    }
                }
            }
        }
    }

    #[test]
    fn class_quotas_hold() {
        // Class 2 holds the 20 lowest (hardest) scores; at high pruning the global stage alone would
        // rarely pick them, but the class stage must give class 2 at least its quota.
        let n = 100;
        let labels: Vec<i64> = (0..n)
            .map(|i| if i < 20 { 2 } else { (i % 2) as i64 })
            .collect();
        let scores: Vec<f32> = (0..n).map(|i| i as f32).collect();
        for (k, lambda) in [(10usize, 0.5), (10, 1.0), (25, 0.6), (50, 0.5)] {
            let quotas = class_quotas(&labels, k, lambda);
            let total: usize = quotas.iter().map(|q| q.1).sum();
            assert_eq!(total, (lambda * k as f64).round() as usize);
            for seed in 0..5 {
                let cfg = SimsConfig::new(k, seed).class_fraction(lambda);
                let s = sims_sample(&scores, Some(&labels), &cfg).unwrap();
                for &(label, quota) in &quotas {
                    let got = s.iter().filter(|&&i| labels[i] == label).count();
                    assert!(got >= quota, "class {label}: {got} < {quota} (k={k})");
                }
            }
        }
        // Class sizes 20 / 40 / 40 and 10 class slots -> 2 / 4 / 4.
        assert_eq!(class_quotas(&labels, 20, 0.5), vec![(0, 4), (1, 4), (2, 2)]);
    }

    #[test]
    fn seeded() {
        let scores: Vec<f32> = (0..500).map(|i| ((i * 31) % 97) as f32).collect();
        let labels = labels_for(500);
        let cfg = SimsConfig::new(100, 5);
        let a = sims_sample(&scores, Some(&labels), &cfg).unwrap();
        assert_eq!(a, sims_sample(&scores, Some(&labels), &cfg).unwrap());
        let b = sims_sample(&scores, Some(&labels), &SimsConfig { seed: 6, ..cfg }).unwrap();
        assert_ne!(a, b);
    }

    fn mean_kept_rank(n: usize, pruning: f64, seed: u64, orientation: Orientation) -> f64 {
        let scores: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let k = ((1.0 - pruning) * n as f64).round() as usize;
        let cfg = SimsConfig::new(k, seed).orientation(orientation);
        let s = sims_sample(&scores, None, &cfg).unwrap();
        s.iter().map(|&i| i as f64 / (n - 1) as f64).sum::<f64>() / k as f64
    }

    #[test]
    fn kept_samples_move_toward_easy_as_pruning_grows() {
        let n = 10_000;
        let means: Vec<f64> = [0.3, 0.5, 0.7, 0.9]
            .iter()
            .map(|&a| {
                (0..4)
                    .map(|seed| mean_kept_rank(n, a, seed, Orientation::HighIsEasy))
                    .sum::<f64>()
                    / 4.0
            })
            .collect();
        assert!(means.windows(2).all(|w| w[0] < w[1]), "{means:?}");
        // At 90% pruning the kept set is clearly on the easy side.
        assert!(means[3] > 0.6, "{means:?}");
        // With the flag, high score = hard: the kept ranks mirror.
        let flipped = mean_kept_rank(n, 0.9, 0, Orientation::HighIsHard);
        assert!(flipped < 0.4, "{flipped}");
    }

    #[test]
    fn bad_inputs() {
        let scores = [0.1f32, 0.2, 0.3];
        assert!(matches!(
            sims_sample(&scores, None, &SimsConfig::new(0, 0)),
            Err(CoreError::InvalidBudget { .. })
        ));
        assert!(matches!(
            sims_sample(&scores, None, &SimsConfig::new(4, 0)),
            Err(CoreError::InvalidBudget { .. })
        ));
        assert!(matches!(
            sims_sample(&scores, Some(&[0, 1]), &SimsConfig::new(2, 0)),
            Err(CoreError::ShapeMismatch { .. })
        ));
        assert!(sims_sample(&[0.1, f32::NAN], None, &SimsConfig::new(1, 0)).is_err());
        assert!(sims_sample(&scores, None, &SimsConfig::new(1, 0).class_fraction(1.5)).is_err());
    }
}
