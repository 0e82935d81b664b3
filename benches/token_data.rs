//! The synthetic token data shared by `benches/tokens.rs` and `benches/gpu/main.rs`: every sample
//! is a salient object of 40 distinct patches (of 196, a 14 × 14 grid) on a near-uniform background,
//! generated on demand as a memory-mapped file would be read.

use ndarray::Array2;

/// Feature `j` of patch `p` of sample `i`.
pub fn token(i: usize, p: usize, j: usize) -> f32 {
    let object = is_object(i, p);
    let h = ((i * 196 + p) as u64 * 64 + j as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    let noise = (h % 2001) as f32 / 1000.0 - 1.0;
    if object {
        noise
    } else {
        (if j == 0 { 1.0 } else { 0.0 }) + 0.02 * noise
    }
}

/// Whether patch `p` of sample `i` belongs to the object.
pub fn is_object(i: usize, p: usize) -> bool {
    (p + i) % 196 < 40
}

/// The saliency of `n` samples of `t` patches: high on the object, low on the background.
pub fn saliency(n: usize, t: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, t), |(i, p)| {
        if is_object(i, p) {
            0.6 + ((i * 7 + p) % 40) as f32 / 100.0
        } else {
            ((i + p * 3) % 30) as f32 / 100.0
        }
    })
}
