// Exact k-nearest-neighbour lists on L2-normalised embeddings (SPEC §1.3), driven by
// crates/infoprune-wgpu/src/knn.rs.
//
// Work is cut into query × candidate tiles. One dispatch covers a slice of query rows (up to 65,536:
// a thousand workgroups, enough to fill a large GPU) against one block of candidate rows
// `[c_begin, c_end)`; the host records one dispatch per candidate block, in increasing order, into
// a single submission. Each row's running top-m list lives in the output buffers between
// dispatches: a dispatch loads it, merges its block's candidates in and stores it back, so the
// merge of the partial lists happens on the device and the result is exactly the sequential scan
// over all candidates. Bounding the candidates per dispatch also bounds how long one invocation
// runs: Mesa's lavapipe silently loses private-array writes in invocations that scan more than a
// few hundred tiles (measured: d = 768 fails from ~72 tiles, d = 32 from ~612), which is what broke
// the former whole-row kernel from a few thousand rows on.
//
// Layout: one workgroup = ROWS (64) query rows, one invocation per row. Candidate rows are streamed
// in tiles of TILE (32) rows, and the feature dimension in chunks of CHUNK (32) floats, so any d
// works and workgroup memory stays at 64 × 33 + 32 × 32 floats = 12 544 bytes, under the 16 KiB
// every WebGPU device guarantees. For each (candidate tile, feature chunk) the workgroup
// cooperatively stages the 64 query rows and the 32 candidate rows of that chunk (global reads in
// contiguous runs of 32 floats); every invocation then adds its row's partial dot products against
// the 32 candidates into eight vec4 accumulators (named variables, not an indexed array, so they
// stay in registers: an indexed private array measured 5× slower on lavapipe). Candidates are
// stored feature-major as vec4s of four candidates, read by all invocations at the same address (a
// broadcast); query rows have a stride of 33 (not 32) so consecutive rows fall in different banks.
//
// One invocation per row (rather than several lanes per row) keeps each row's bounded top-m in a
// single private array, so the ranking needs no cross-lane merge and is the same sequential
// insertion the CPU does: candidates are visited in increasing index order and only a strictly
// greater similarity displaces the worst kept one, which is exactly "ties go to the smaller index".
// Carrying the list across blocks keeps that order, since blocks arrive in increasing order too.
//
// Determinism: each dot product is accumulated in f32 in a fixed order (k = 0, 1, …, 31 within each
// 32-feature chunk, then the chunks in order; the zero padding of the last chunk adds exact zeros),
// whatever the slicing into dispatches, so results are bit-identical run to run and for any block
// size.

struct Params {
    // Rows of the embedding matrix.
    n: u32,
    // Features per row.
    d: u32,
    // Neighbours kept per row, 1 ≤ m ≤ MAX_M.
    m: u32,
    // First query row of this dispatch; output row 0 is this row.
    row_offset: u32,
    // One past the last query row of this dispatch (≤ n); guards the output slice.
    row_end: u32,
    // Raw cosines ≥ this become exactly 1 (the CPU's snap rule, threshold passed from the host so
    // both sides compare against the same f32).
    snap_from: f32,
    // The candidate block of this dispatch; a block starting past 0 continues the lists the
    // previous blocks left in the output buffers.
    c_begin: u32,
    c_end: u32,
}

const ROWS: u32 = 64u;
const TILE: u32 = 32u;
const CHUNK: u32 = 32u;
// CHUNK + 1: padding so that rows of a staged tile fall in different banks.
const STRIDE: u32 = 33u;
const MAX_M: u32 = 32u;
const EMPTY: u32 = 0xffffffffu;

// One Params per dispatch in a buffer bound with a dynamic offset.
@group(0) @binding(0) var<uniform> params: Params;
// n × d, row-major, rows already L2-normalised on the host.
@group(0) @binding(1) var<storage, read> emb: array<f32>;
// (row_end − row_offset) × m neighbour indices, EMPTY where a row has fewer than m neighbours:
// the running lists between candidate blocks, the result after the last one.
@group(0) @binding(2) var<storage, read_write> out_idx: array<u32>;
// The matching similarities (0 in empty slots).
@group(0) @binding(3) var<storage, read_write> out_val: array<f32>;

var<workgroup> q_tile: array<f32, 2112>; // ROWS × STRIDE
// Feature-major: element [k · TILE/4 + t/4][t % 4] is feature k of candidate t.
var<workgroup> c_tile: array<vec4<f32>, 256>; // CHUNK × TILE / 4

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = params.n;
    let d = params.d;
    let m = params.m;
    let first = params.row_offset + wg.x * ROWS;
    let row = first + lid;
    let in_slice = row < params.row_end;

    // Kept neighbours, best first: similarity descending, index ascending.
    var top_s: array<f32, MAX_M>;
    var top_i: array<u32, MAX_M>;
    var len = 0u;
    // A candidate must beat this strictly: 0 while the list has room (which also drops
    // non-positive similarities), then the worst kept similarity. Kept in a scalar so the common
    // case, a candidate that does not qualify, costs one comparison and no array access.
    var bar = 0.0;
    if (in_slice && params.c_begin > 0u) {
        let base = (row - params.row_offset) * m;
        for (var s = 0u; s < m; s++) {
            let j = out_idx[base + s];
            if (j == EMPTY) {
                break;
            }
            top_i[s] = j;
            top_s[s] = out_val[base + s];
            len = s + 1u;
        }
        if (len == m) {
            bar = top_s[m - 1u];
        }
    }

    // Loop bounds come from the uniform buffer and the workgroup id only, so every barrier below
    // is in uniform control flow.
    for (var c0 = params.c_begin; c0 < params.c_end; c0 += TILE) {
        // Candidate t's dot product is component t % 4 of accumulator t / 4. Eight named vec4s
        // rather than an indexed array: drivers keep them in registers and use 4-wide arithmetic.
        var a0 = vec4<f32>(0.0);
        var a1 = vec4<f32>(0.0);
        var a2 = vec4<f32>(0.0);
        var a3 = vec4<f32>(0.0);
        var a4 = vec4<f32>(0.0);
        var a5 = vec4<f32>(0.0);
        var a6 = vec4<f32>(0.0);
        var a7 = vec4<f32>(0.0);
        for (var k0 = 0u; k0 < d; k0 += CHUNK) {
            // Stage the chunk: consecutive invocations load consecutive features of a row, so the
            // global reads are contiguous runs of CHUNK floats. Out-of-range entries are zero.
            for (var s = 0u; s < CHUNK; s++) {
                let e = lid + s * ROWS;
                let r = e / CHUNK;
                let k = e % CHUNK;
                let gr = first + r;
                let gk = k0 + k;
                var v = 0.0;
                if (gr < n && gk < d) {
                    v = emb[gr * d + gk];
                }
                q_tile[r * STRIDE + k] = v;
            }
            for (var s = 0u; s < (TILE * CHUNK) / ROWS; s++) {
                let e = lid + s * ROWS;
                let r = e / CHUNK;
                let k = e % CHUNK;
                let gr = c0 + r;
                let gk = k0 + k;
                var v = 0.0;
                if (gr < n && gk < d) {
                    v = emb[gr * d + gk];
                }
                c_tile[k * (TILE / 4u) + r / 4u][r % 4u] = v;
            }
            workgroupBarrier();
            // Each chunk's 32 products are summed on their own and then added to the running
            // dot product (two-level summation): the rounding error grows with d / 32 + 32
            // rather than with d, so at d = 768 exact duplicates still land within the CPU's
            // snap-to-one tolerance (a single running sum drifted 5e-6 from 1 there).
            var p0 = vec4<f32>(0.0);
            var p1 = vec4<f32>(0.0);
            var p2 = vec4<f32>(0.0);
            var p3 = vec4<f32>(0.0);
            var p4 = vec4<f32>(0.0);
            var p5 = vec4<f32>(0.0);
            var p6 = vec4<f32>(0.0);
            var p7 = vec4<f32>(0.0);
            for (var k = 0u; k < CHUNK; k++) {
                let q = q_tile[lid * STRIDE + k];
                let b = k * (TILE / 4u);
                p0 = p0 + q * c_tile[b];
                p1 = p1 + q * c_tile[b + 1u];
                p2 = p2 + q * c_tile[b + 2u];
                p3 = p3 + q * c_tile[b + 3u];
                p4 = p4 + q * c_tile[b + 4u];
                p5 = p5 + q * c_tile[b + 5u];
                p6 = p6 + q * c_tile[b + 6u];
                p7 = p7 + q * c_tile[b + 7u];
            }
            a0 = a0 + p0;
            a1 = a1 + p1;
            a2 = a2 + p2;
            a3 = a3 + p3;
            a4 = a4 + p4;
            a5 = a5 + p5;
            a6 = a6 + p6;
            a7 = a7 + p7;
            // The next chunk overwrites the tiles: wait until everyone has read them.
            workgroupBarrier();
        }
        // Park the 32 similarities in this invocation's own row of q_tile (free until the next
        // tile's staging, which waits for the barrier at the end of this loop) so the ranking can
        // index them.
        let own = lid * STRIDE;
        for (var c = 0u; c < 4u; c++) {
            q_tile[own + c] = a0[c];
            q_tile[own + 4u + c] = a1[c];
            q_tile[own + 8u + c] = a2[c];
            q_tile[own + 12u + c] = a3[c];
            q_tile[own + 16u + c] = a4[c];
            q_tile[own + 20u + c] = a5[c];
            q_tile[own + 24u + c] = a6[c];
            q_tile[own + 28u + c] = a7[c];
        }

        if (in_slice) {
            // Increasing candidate index order, so a tie never displaces an earlier (smaller) one.
            for (var t = 0u; t < TILE; t++) {
                let j = c0 + t;
                if (j >= params.c_end) {
                    break;
                }
                if (j == row) {
                    continue;
                }
                // Snap BEFORE ranking, as the CPU does, so duplicates tie at exactly 1.
                var sim = q_tile[own + t];
                if (sim >= params.snap_from) {
                    sim = 1.0;
                }
                if (sim > bar) {
                    // Insertion: shift strictly smaller entries down; equal ones (smaller index)
                    // stay ahead. When full, the last entry is the one overwritten.
                    var p = min(len, m - 1u);
                    while (p > 0u && top_s[p - 1u] < sim) {
                        top_s[p] = top_s[p - 1u];
                        top_i[p] = top_i[p - 1u];
                        p -= 1u;
                    }
                    top_s[p] = sim;
                    top_i[p] = j;
                    len = min(len + 1u, m);
                    if (len == m) {
                        bar = top_s[m - 1u];
                    }
                }
            }
        }
        // The next tile's staging overwrites q_tile, parked similarities included.
        workgroupBarrier();
    }

    if (in_slice) {
        let base = (row - params.row_offset) * m;
        for (var s = 0u; s < m; s++) {
            if (s < len) {
                out_idx[base + s] = top_i[s];
                out_val[base + s] = top_s[s];
            } else {
                out_idx[base + s] = EMPTY;
                out_val[base + s] = 0.0;
            }
        }
    }
}
