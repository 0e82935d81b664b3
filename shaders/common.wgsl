// Shared by every solver kernel: one bind-group layout, the per-problem state, and deterministic
// workgroup reductions (a fixed tree, so the same inputs give the same bits on every run).

struct Problem {
    row_lo: u32, row_hi: u32, chunk_lo: u32, chunk_hi: u32,
    k: f32, alpha: f32, eta: f32, f: f32,
    tau: f32, tau_lo: f32, tau_hi: f32, f_new: f32,
    iterations: u32, backtracks: u32, converged: u32, accepted: u32,
    norm: f32, delta: f32, proj_done: u32, max_iterations: u32,
    shift: f32, capped_prev: f32,
    sel_lo: u32, sel_hi: u32, sel_stage: u32, sel_t1: u32, sel_t2: u32, sel_t3: u32,
}

struct Params {
    n: u32, nrhs: u32, src: u32, dst: u32,
    tolerance: f32, sum_tolerance: f32, ascent_slack: f32, lipschitz_floor: f32,
    n_problems: u32, n_chunks: u32, max_backtracks: u32, n_multi: u32,
    // Factor the step grows by after an accepted step (SolverConfig::step_growth).
    step_growth: f32,
    // The relaxed f of every accepted iteration of problem p goes to
    // vecs[trace_base + p · trace_stride + iteration] (no trace when trace_stride is 0).
    trace_base: u32, trace_stride: u32,
    // Mirror iterates are lifted to this (ascent::MIRROR_FLOOR).
    mirror_floor: f32,
}

// Why a problem's ascent stopped, in Problem.converged (0 while it runs): ascent::Stop::code.
const STOP_TOLERANCE: u32 = 1u;
const STOP_NO_ASCENT: u32 = 2u;
const STOP_ITERATION_LIMIT: u32 = 3u;
const STOP_TRIVIAL: u32 = 4u;

@group(0) @binding(0) var<storage, read> indptr: array<u32>;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> vecs: array<f32>;
@group(0) @binding(4) var<storage, read> row_problem: array<u32>;
@group(0) @binding(5) var<storage, read_write> problems: array<Problem>;
// Chunk c < n_chunks covers rows chunks[c].y .. chunks[c].z of problem chunks[c].x (never two
// problems). After them, chunks[n_chunks + b].x is the b-th problem with more than one chunk: the
// problems the second level of a reduction (`combine_*`) has work for.
@group(0) @binding(6) var<storage, read> chunks: array<vec4<u32>>;
@group(0) @binding(7) var<storage, read_write> partials: array<vec4<f32>>;
// flags[0]: problems of the batch not yet converged, counted on the device after each block of
// iterations so the host reads 4 bytes, not the per-problem state, to know when to stop.
@group(0) @binding(8) var<storage, read_write> flags: array<atomic<u32>>;
@group(1) @binding(0) var<uniform> params: Params;

// Slots of `vecs`, each `n` long.
const S: u32 = 0u;
const X: u32 = 1u;
const Y: u32 = 2u;
const XN: u32 = 3u;
const YN: u32 = 4u;
const V: u32 = 5u;
const W: u32 = 6u;

const WG: u32 = 256u;

fn at(slot: u32, i: u32) -> u32 {
    return slot * params.n + i;
}

// Large dispatches are 2-D (at most 65535 workgroups per dimension).
fn linear_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

var<workgroup> scratch: array<vec4<f32>, 256>;

// The three ways partials combine. SUM: every component summed. SUM_MAX: x and z summed, y and w
// maximised. MIN_MAX: x minimised, y maximised (z, w unused).
const SUM: u32 = 0u;
const SUM_MAX: u32 = 1u;
const MIN_MAX: u32 = 2u;

fn fold(op: u32, a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    switch op {
        case 1u: {
            return vec4<f32>(a.x + b.x, max(a.y, b.y), a.z + b.z, max(a.w, b.w));
        }
        case 2u: {
            return vec4<f32>(min(a.x, b.x), max(a.y, b.y), 0.0, 0.0);
        }
        default: {
            return a + b;
        }
    }
}

// What `fold` leaves unchanged.
fn identity(op: u32) -> vec4<f32> {
    switch op {
        case 1u: {
            return vec4<f32>(0.0, -3.0e38, 0.0, -3.0e38);
        }
        case 2u: {
            return vec4<f32>(3.0e38, -3.0e38, 0.0, 0.0);
        }
        default: {
            return vec4<f32>(0.0);
        }
    }
}

// The workgroup's values folded by a fixed tree, so the same inputs give the same bits every run.
// `op` is a constant at every call, so the barriers stay in uniform control flow.
fn reduce(lid: u32, value: vec4<f32>, op: u32) -> vec4<f32> {
    scratch[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if lid < stride {
            scratch[lid] = fold(op, scratch[lid], scratch[lid + stride]);
        }
        workgroupBarrier();
    }
    return scratch[0];
}

fn reduce_sum(lid: u32, value: vec4<f32>) -> vec4<f32> {
    return reduce(lid, value, SUM);
}

fn reduce_sum_max(lid: u32, value: vec4<f32>) -> vec4<f32> {
    return reduce(lid, value, SUM_MAX);
}

fn reduce_min_max(lid: u32, value: vec4<f32>) -> vec4<f32> {
    return reduce(lid, value, MIN_MAX);
}

// Inclusive prefix sums of scratch[0..256].x (Hillis–Steele), left in place.
fn scan_scratch_x(lid: u32) {
    workgroupBarrier();
    for (var offset = 1u; offset < WG; offset = offset * 2u) {
        var add = 0.0;
        if lid >= offset {
            add = scratch[lid - offset].x;
        }
        workgroupBarrier();
        scratch[lid].x = scratch[lid].x + add;
        workgroupBarrier();
    }
}

// The second level of every per-problem reduction. A chunk kernel leaves one partial per 256-row
// chunk; for each problem with several chunks one workgroup folds them (each lane a strided run of
// chunks in a fixed order, then the tree above) into partials[chunk_lo], where every problem kernel
// reads its total. Problems of one chunk already have it there. So no kernel loops over a problem's
// chunks, however large the problem (a 10^6-row problem has 3,907).
fn multi_problem(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    let b = linear_group(wid, nwg);
    if b >= params.n_multi {
        return 0xffffffffu;
    }
    return chunks[params.n_chunks + b].x;
}

fn combine(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, op: u32) {
    let p = multi_problem(wid, nwg);
    if p == 0xffffffffu {
        return;
    }
    let lo = problems[p].chunk_lo;
    let hi = problems[p].chunk_hi;
    var acc = identity(op);
    for (var c = lo + lid; c < hi; c = c + WG) {
        acc = fold(op, acc, partials[c]);
    }
    let r = reduce(lid, acc, op);
    if lid == 0u {
        partials[lo] = r;
    }
}

@compute @workgroup_size(256)
fn combine_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    combine(wid, nwg, lid, SUM);
}

@compute @workgroup_size(256)
fn combine_sum_max(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    combine(wid, nwg, lid, SUM_MAX);
}

@compute @workgroup_size(256)
fn combine_min_max(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    combine(wid, nwg, lid, MIN_MAX);
}

// The total a problem kernel reads: what the chunk kernel and, for several chunks, `combine_*`
// left in the problem's first chunk.
fn problem_total(p: u32) -> vec4<f32> {
    return partials[problems[p].chunk_lo];
}
