//! Splitting a budget across groups (partitions, classes) in proportion to their sizes.

/// Splits `total` across groups of the given `sizes` in proportion to their size, by the largest
/// remainder method (Hamilton):
///
/// - each group first gets `⌊total·size_i / Σ sizes⌋` (exact integer arithmetic, no rounding error);
/// - the units still missing go one each to the groups with the largest remainders
///   `total·size_i mod Σ sizes`, ties to the smaller index.
///
/// The result sums to exactly `total` and no entry exceeds its size (a group with a non-zero
/// remainder is never full). If `total` exceeds `Σ sizes` it is capped there: every group gets its full
/// size.
///
/// ```
/// use infoprune_core::budget::largest_remainder;
/// assert_eq!(largest_remainder(&[5, 3, 2], 5), vec![3, 1, 1]);
/// ```
pub fn largest_remainder(sizes: &[usize], total: usize) -> Vec<usize> {
    let sum: u128 = sizes.iter().map(|&s| s as u128).sum();
    if total as u128 >= sum {
        return sizes.to_vec();
    }
    let total128 = total as u128;
    let mut quotas: Vec<usize> = sizes
        .iter()
        .map(|&s| (total128 * s as u128 / sum) as usize)
        .collect();
    let assigned: usize = quotas.iter().sum();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    let remainder = |i: usize| total128 * sizes[i] as u128 % sum;
    order.sort_by(|&a, &b| remainder(b).cmp(&remainder(a)).then(a.cmp(&b)));
    for &i in order.iter().take(total - assigned) {
        quotas[i] += 1;
    }
    quotas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_and_capped() {
        let cases: &[&[usize]] = &[
            &[1],
            &[3, 3, 3],
            &[10, 1, 1, 0, 7],
            &[100, 200, 300, 401],
            &[0, 0, 5],
            &[1, 1, 1, 1, 1, 1, 1],
        ];
        for sizes in cases {
            let s: usize = sizes.iter().sum();
            for total in 0..=s {
                let q = largest_remainder(sizes, total);
                assert_eq!(q.iter().sum::<usize>(), total, "{sizes:?} {total}");
                assert!(q.iter().zip(sizes.iter()).all(|(a, b)| a <= b));
                // Every quota is within one of its exact share.
                for (i, &qi) in q.iter().enumerate() {
                    let exact = total as f64 * sizes[i] as f64 / s as f64;
                    assert!((qi as f64 - exact).abs() < 1.0, "{sizes:?} {total} {q:?}");
                }
            }
            assert_eq!(largest_remainder(sizes, s + 5), sizes.to_vec());
        }
    }

    #[test]
    fn ties_go_to_smaller_index_and_zero_total() {
        assert_eq!(largest_remainder(&[3, 3, 3], 1), vec![1, 0, 0]);
        assert_eq!(largest_remainder(&[3, 3, 3], 2), vec![1, 1, 0]);
        assert_eq!(largest_remainder(&[3, 3, 3], 0), vec![0, 0, 0]);
        assert_eq!(largest_remainder(&[], 0), Vec::<usize>::new());
        // 7·(6, 3, 1)/10 = 4.2, 2.1, 0.7 -> floors 4, 2, 0; one unit to the largest remainder (0.7).
        assert_eq!(largest_remainder(&[6, 3, 1], 7), vec![4, 2, 1]);
        // Caps: a size-1 group never gets more than 1.
        assert_eq!(largest_remainder(&[1, 9], 9), vec![1, 8]);
    }
}
