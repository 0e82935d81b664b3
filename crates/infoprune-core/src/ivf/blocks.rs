//! The blocked matrix products every IVF stage runs (training, assignment, search) and their
//! sizes, which bound the memory one task holds.

/// Query rows per block of the search (as the exact kernel's row blocks).
pub(super) const BLOCK_ROWS: usize = 256;

/// Columns per similarity tile: a task holds at most `BLOCK_ROWS × TILE_COLS` floats (2 MiB).
pub(super) const TILE_COLS: usize = 2048;

/// Centroid scores held per task while assigning rows (4 MiB of f32).
pub(super) const ASSIGN_SCORES: usize = 1 << 20;

/// `C = A Bᵀ` for row-major `A` (`rows × d`) and `B` (`cols × d`) into `c` (`rows × cols`).
pub(super) fn sgemm_abt(a: &[f32], b: &[f32], rows: usize, cols: usize, d: usize, c: &mut [f32]) {
    assert!(a.len() >= rows * d && b.len() >= cols * d && c.len() >= rows * cols);
    // SAFETY: A is `rows × d` row-major (row stride d), B is read as the `d × cols` transpose of
    // the `cols × d` row-major block (element (k, j) at `j·d + k`), C is `rows × cols` row-major;
    // the assert above keeps all three in bounds and C is a distinct mutable buffer.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            d,
            cols,
            1.0,
            a.as_ptr(),
            d as isize,
            1,
            b.as_ptr(),
            1,
            d as isize,
            0.0,
            c.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
}
