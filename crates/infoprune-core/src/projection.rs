//! Euclidean projection onto the capped simplex `C = { x ∈ [0,1]^n : Σ x = k }` (SPEC §1.2).
//!
//! `Π_C(v)_i = clip(v_i − τ, 0, 1)` where `τ` makes the entries sum to `k`. The solvers use
//! [`capped_simplex_projection`], a bisection on `τ` safeguarding a Newton step on the piecewise-linear
//! sum (the same scheme the GPU runs, so both agree); [`capped_simplex_projection_exact`] finds `τ`
//! by sorting the breakpoints and is the reference the tests hold the bisection to.

use crate::reduce;

/// Largest number of bisection steps; each halves the bracket, so 200 reach f64 resolution from any
/// finite start.
const MAX_STEPS: usize = 200;

/// Relative tolerance on `|Σ x − k|` at which the projection stops (tighter than SPEC's `1e-4·k`,
/// so that the entries themselves match the exact projection to about `1e-6`).
pub const SUM_TOLERANCE: f64 = 1e-7;

/// Sum of `clip(v_i − τ, 0, 1)` with the size and `Σ v` of the free set (`0 < v_i − τ < 1`) and the
/// count of capped entries, all needed for the Newton step.
struct SumAt {
    sum: f64,
    free: f64,
    free_sum: f64,
    capped: f64,
}

fn sum_at(v: &[f32], tau: f64) -> SumAt {
    let [sum, free, free_sum, capped] = reduce::sums_by(v.len(), |i| {
        let t = v[i] as f64 - tau;
        if t >= 1.0 {
            [1.0, 0.0, 0.0, 1.0]
        } else if t > 0.0 {
            [t, 1.0, v[i] as f64, 0.0]
        } else {
            [0.0; 4]
        }
    });
    SumAt {
        sum,
        free,
        free_sum,
        capped,
    }
}

/// Projects `v` onto `{ x ∈ [0,1]^n : Σ x = k }`, writing into `out`.
///
/// Requires `1 ≤ k ≤ n` and finite `v` (the solvers guarantee both).
pub fn capped_simplex_projection(v: &[f32], k: usize, out: &mut [f32]) {
    let n = v.len();
    assert_eq!(out.len(), n, "projection: output has the wrong length");
    assert!(k >= 1 && k <= n, "projection: need 1 ≤ k ≤ n");
    if k == n {
        out.fill(1.0);
        return;
    }
    let target = k as f64;
    let tolerance = SUM_TOLERANCE * target;
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &x in v {
        min = min.min(x as f64);
        max = max.max(x as f64);
    }
    // Σ(lo) = n ≥ k and Σ(hi) = 0 ≤ k bracket the root.
    let (mut lo, mut hi) = (min - 1.0, max);
    let mut tau = 0.5 * (lo + hi);
    for _ in 0..MAX_STEPS {
        let at = sum_at(v, tau);
        let residual = at.sum - target;
        if residual.abs() <= tolerance {
            break;
        }
        if residual > 0.0 {
            lo = tau;
        } else {
            hi = tau;
        }
        // Inside one linear piece Σ(τ) = capped + free_sum − free·τ, so this τ is exact once the
        // active sets are right; keep it only while it stays inside the bracket.
        let newton = if at.free > 0.0 {
            (at.capped + at.free_sum - target) / at.free
        } else {
            f64::NAN
        };
        tau = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1.0) {
            break;
        }
    }
    for (o, &x) in out.iter_mut().zip(v) {
        *o = (x as f64 - tau).clamp(0.0, 1.0) as f32;
    }
}

/// The exact projection by sorting the `2n` breakpoints of `Σ(τ)` (`O(n log n)`, in `f64`).
pub fn capped_simplex_projection_exact(v: &[f32], k: usize) -> Vec<f32> {
    let n = v.len();
    assert!(k >= 1 && k <= n, "projection: need 1 ≤ k ≤ n");
    if k == n {
        return vec![1.0; n];
    }
    // Walking τ upwards, entry i leaves the cap at v_i − 1 and reaches zero at v_i.
    let mut events: Vec<(f64, bool, f64)> = Vec::with_capacity(2 * n);
    for &x in v {
        events.push((x as f64 - 1.0, true, x as f64));
        events.push((x as f64, false, x as f64));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let target = k as f64;
    let (mut capped, mut free, mut free_sum) = (n as f64, 0.0f64, 0.0f64);
    let mut tau = events.last().map_or(0.0, |e| e.0);
    for &(t, leaves_cap, x) in &events {
        let sum_here = capped + free_sum - free * t;
        if sum_here <= target {
            tau = if free > 0.0 {
                (capped + free_sum - target) / free
            } else {
                t
            };
            break;
        }
        if leaves_cap {
            capped -= 1.0;
            free += 1.0;
            free_sum += x;
        } else {
            free -= 1.0;
            free_sum -= x;
        }
    }
    v.iter()
        .map(|&x| (x as f64 - tau).clamp(0.0, 1.0) as f32)
        .collect()
}

/// Projection onto the capped simplex in the KL (entropic) geometry: `x_i = min(1, λ v_i)` with `λ`
/// such that `Σ x = k`, found by the fixed point "cap the entries that reach 1, rescale the rest"
/// (SPEC §1.1, mirror ascent). Entries of `v` must be positive and finite.
pub fn capped_simplex_kl_projection(v: &[f32], k: usize, out: &mut [f32]) {
    let n = v.len();
    assert_eq!(out.len(), n, "projection: output has the wrong length");
    assert!(k >= 1 && k <= n, "projection: need 1 ≤ k ≤ n");
    if k == n {
        out.fill(1.0);
        return;
    }
    let mut capped = vec![false; n];
    let mut n_capped = 0usize;
    let mut lambda = 0.0f64;
    // The capped set only grows, so this ends after at most n rounds (in practice a handful).
    for _ in 0..=n {
        let free_mass = reduce::sum_by(n, |i| if capped[i] { 0.0 } else { v[i] as f64 });
        let remaining = (k - n_capped) as f64;
        lambda = if free_mass > 0.0 {
            remaining / free_mass
        } else {
            f64::INFINITY
        };
        let mut grew = false;
        for i in 0..n {
            if !capped[i] && lambda * v[i] as f64 >= 1.0 {
                capped[i] = true;
                n_capped += 1;
                grew = true;
            }
        }
        if !grew || n_capped >= k {
            break;
        }
    }
    for i in 0..n {
        out[i] = if capped[i] {
            1.0
        } else {
            (lambda * v[i] as f64).min(1.0) as f32
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn check_against_exact(v: &[f32], k: usize) {
        let mut out = vec![0.0; v.len()];
        capped_simplex_projection(v, k, &mut out);
        let exact = capped_simplex_projection_exact(v, k);
        for (a, b) in out.iter().zip(&exact) {
            assert_abs_diff_eq!(*a, *b, epsilon = 1e-5);
        }
        let total: f64 = out.iter().map(|&x| x as f64).sum();
        assert_abs_diff_eq!(total, k as f64, epsilon = 1e-4 * k as f64);
        assert!(out.iter().all(|&x| (0.0..=1.0).contains(&x)));
    }

    #[test]
    fn bisection_matches_exact_on_random_vectors() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for trial in 0..300 {
            let n = rng.random_range(1..200);
            let k = rng.random_range(1..=n);
            let scale = [0.1f32, 1.0, 10.0, 1000.0][trial % 4];
            let v: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
            check_against_exact(&v, k);
        }
    }

    #[test]
    fn handles_ties_extremes_and_far_values() {
        check_against_exact(&[0.5; 10], 3);
        check_against_exact(&[1.0, 1.0, 1.0, 0.0, 0.0], 2);
        check_against_exact(&[3.0, 3.0, -2.0, -2.0, 7.0], 1);
        check_against_exact(&[1e6, -1e6, 5e5, 0.0], 2);
        check_against_exact(&[-50.0, -49.5, -49.9, -60.0], 1);
        check_against_exact(&[0.2, 0.9, 0.4], 3);
        check_against_exact(&[0.2, 0.9, 0.4], 1);
        check_against_exact(&[42.0], 1);
        // Ties straddling the threshold split the remaining mass evenly.
        let mut out = vec![0.0; 4];
        capped_simplex_projection(&[5.0, 1.0, 1.0, -3.0], 2, &mut out);
        assert_abs_diff_eq!(out[0], 1.0, epsilon = 1e-6);
        assert_abs_diff_eq!(out[1], 0.5, epsilon = 1e-6);
        assert_abs_diff_eq!(out[2], 0.5, epsilon = 1e-6);
        assert_abs_diff_eq!(out[3], 0.0, epsilon = 1e-6);
    }

    #[test]
    fn exact_projection_is_a_fixed_point_on_the_set() {
        let y = [0.25f32, 0.75, 1.0, 0.0, 1.0];
        let q = capped_simplex_projection_exact(&y, 3);
        for (a, b) in q.iter().zip(&y) {
            assert_abs_diff_eq!(*a, *b, epsilon = 1e-6);
        }
    }

    #[test]
    fn kl_projection_caps_and_sums_to_k() {
        let v = [10.0f32, 1.0, 1.0, 1.0, 1.0];
        let mut out = vec![0.0; 5];
        capped_simplex_kl_projection(&v, 2, &mut out);
        assert_abs_diff_eq!(out[0], 1.0, epsilon = 1e-6);
        for &x in &out[1..] {
            assert_abs_diff_eq!(x, 0.25, epsilon = 1e-6);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..100 {
            let n = rng.random_range(1..100);
            let k = rng.random_range(1..=n);
            let v: Vec<f32> = (0..n).map(|_| rng.random_range(1e-6f32..50.0)).collect();
            let mut out = vec![0.0; n];
            capped_simplex_kl_projection(&v, k, &mut out);
            let total: f64 = out.iter().map(|&x| x as f64).sum();
            assert_abs_diff_eq!(total, k as f64, epsilon = 1e-4 * k as f64);
            assert!(out.iter().all(|&x| (0.0..=1.0).contains(&x)));
            // Uncapped entries keep their ratios.
            let free: Vec<usize> = (0..n).filter(|&i| out[i] < 1.0).collect();
            if free.len() >= 2 {
                let (a, b) = (free[0], free[1]);
                assert_abs_diff_eq!(out[a] / v[a], out[b] / v[b], epsilon = 1e-3 * out[a] / v[a]);
            }
        }
    }
}
