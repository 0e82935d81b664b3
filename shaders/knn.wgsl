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
    // First query row (position) of this slice; output row 0 is this row.
    row_offset: u32,
    // One past the last query row of this dispatch (≤ n); guards the output slice.
    row_end: u32,
    // Raw cosines ≥ this become exactly 1 (the CPU's snap rule, threshold passed from the host so
    // both sides compare against the same f32).
    snap_from: f32,
    // The candidate block of this dispatch (exact mode).
    c_begin: u32,
    c_end: u32,
    // 0: exact (the workgroup's queries are consecutive rows, the candidates this block);
    // 1: IVF (the workgroup's queries and candidates come from tasks[task_base + workgroup]).
    mode: u32,
    // Whether this dispatch continues the lists earlier dispatches left in the output buffers.
    carry: u32,
    // IVF mode: the dispatch's tasks are tasks[task_base .. task_base + task_count].
    task_base: u32,
    task_count: u32,
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
// IVF mode: one task per workgroup, (first, end) of its query positions in query_pos and
// (begin, end) of its candidate positions, one block of one inverted list.
@group(0) @binding(4) var<storage, read> tasks: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> query_pos: array<u32>;
// IVF mode: the original row at every position (emb holds the rows list by list); ties rank by
// it, and the lists report it.
@group(0) @binding(6) var<storage, read> order: array<u32>;

var<workgroup> q_tile: array<f32, 2112>; // ROWS × STRIDE
var<workgroup> task: vec4<u32>;
// Feature-major: element [k · TILE/4 + t/4][t % 4] is feature k of candidate t.
var<workgroup> c_tile: array<vec4<f32>, 256>; // CHUNK × TILE / 4

// The position of the workgroup's r-th query row, EMPTY past its last.
fn query_position(t: vec4<u32>, r: u32) -> u32 {
    let q = t.x + r;
    if (q >= t.y) {
        return EMPTY;
    }
    if (params.mode == 0u) {
        return q;
    }
    return query_pos[q];
}

// The row a position holds: itself in exact mode, where rows are in their own order.
fn original(j: u32) -> u32 {
    if (params.mode == 0u) {
        return j;
    }
    return order[j];
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = params.n;
    let d = params.d;
    let m = params.m;
    // The workgroup's task: (first query, end, first candidate, end), broadcast so that the loops
    // over it stay in uniform control flow.
    if (lid == 0u) {
        if (params.mode == 0u) {
            let first = params.row_offset + wg.x * ROWS;
            task = vec4<u32>(first, min(first + ROWS, params.row_end), params.c_begin, params.c_end);
        } else {
            // A 2-D dispatch rounds the workgroups up; the extra ones get an empty task.
            let w = wg.x + wg.y * nwg.x;
            task = vec4<u32>(0u);
            if (w < params.task_count) {
                task = tasks[params.task_base + w];
            }
        }
    }
    let t = workgroupUniformLoad(&task);
    let row = query_position(t, lid);
    let in_slice = row != EMPTY;

    // Kept neighbours, best first: similarity descending, original row ascending.
    var top_s: array<f32, MAX_M>;
    var top_i: array<u32, MAX_M>;
    var len = 0u;
    // A candidate must beat this: 0 while the list has room (which also drops non-positive
    // similarities), then the worst kept similarity, with bar_i its row for ties. Kept in scalars
    // so the common case, a candidate that does not qualify, costs one comparison.
    var bar = 0.0;
    var bar_i = EMPTY;
    if (in_slice && params.carry != 0u) {
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
            bar_i = top_i[m - 1u];
        }
    }

    // Loop bounds come from the broadcast task only, so every barrier below is in uniform
    // control flow.
    for (var c0 = t.z; c0 < t.w; c0 += TILE) {
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
                let gr = query_position(t, r);
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
            for (var c = 0u; c < TILE; c++) {
                let j = c0 + c;
                if (j >= t.w) {
                    break;
                }
                if (j == row) {
                    continue;
                }
                // Snap BEFORE ranking, as the CPU does, so duplicates tie at exactly 1.
                var sim = q_tile[own + c];
                if (sim >= params.snap_from) {
                    sim = 1.0;
                }
                // Ties rank by the smaller row. Exact mode visits rows in increasing order, so
                // there a tie never wins; IVF visits lists in any order.
                let oj = original(j);
                if (sim > bar || (sim == bar && len == m && oj < bar_i)) {
                    // Insertion: shift entries that rank below the candidate down. When full,
                    // the last entry is the one overwritten.
                    var p = min(len, m - 1u);
                    while (p > 0u
                        && (top_s[p - 1u] < sim || (top_s[p - 1u] == sim && top_i[p - 1u] > oj))) {
                        top_s[p] = top_s[p - 1u];
                        top_i[p] = top_i[p - 1u];
                        p -= 1u;
                    }
                    top_s[p] = sim;
                    top_i[p] = oj;
                    len = min(len + 1u, m);
                    if (len == m) {
                        bar = top_s[m - 1u];
                        bar_i = top_i[m - 1u];
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
