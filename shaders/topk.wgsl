// Per-problem top-k of x with SPEC's tie rule (larger x, then larger s, then smaller index), for
// every problem of a batch at once, then a stable compaction of the kept local indices.
//
// Each row has the 96-bit key (x, s, ~index), floats mapped to u32 in the same total order as
// Rust's `total_cmp`. Every problem binary-searches the k-th largest key one 32-bit component at a
// time (3 stages × 32 rounds of count-and-update); exactly k keys are ≥ it, so the selection is
// exact and identical to the CPU's. Input: x in slot X, s in slot S. Output: slot V holds the
// 0/1 mask; slot W holds each problem's kept local indices, ascending, from its first row on.

fn ordered(f: f32) -> u32 {
    let u = bitcast<u32>(f);
    if (u & 0x80000000u) != 0u {
        return ~u;
    }
    return u | 0x80000000u;
}

fn key_at_least(i: u32, local: u32, a: u32, b: u32, c: u32) -> bool {
    let x = ordered(vecs[at(X, i)]);
    if x != a {
        return x > a;
    }
    let s = ordered(vecs[at(S, i)]);
    if s != b {
        return s > b;
    }
    return ~local >= c;
}

// The candidate key a problem is testing in its current stage.
fn candidate(p: u32) -> vec3<u32> {
    let lo = problems[p].sel_lo;
    let hi = problems[p].sel_hi;
    let mid = lo + (hi - lo) / 2u + ((hi - lo) & 1u);
    let stage = problems[p].sel_stage;
    if stage == 0u {
        return vec3<u32>(mid, 0u, 0u);
    } else if stage == 1u {
        return vec3<u32>(problems[p].sel_t1, mid, 0u);
    } else if stage == 2u {
        return vec3<u32>(problems[p].sel_t1, problems[p].sel_t2, mid);
    }
    return vec3<u32>(problems[p].sel_t1, problems[p].sel_t2, problems[p].sel_t3);
}

@compute @workgroup_size(256)
fn select_init(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    problems[p].sel_lo = 0u;
    problems[p].sel_hi = 0xFFFFFFFFu;
    problems[p].sel_stage = 0u;
    problems[p].sel_t1 = 0u;
    problems[p].sel_t2 = 0u;
    problems[p].sel_t3 = 0u;
}

@compute @workgroup_size(256)
fn chunk_count_keys(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let key = candidate(ch.x);
    let i = ch.y + lid;
    var value = vec4<f32>(0.0);
    if i < ch.z && key_at_least(i, i - problems[ch.x].row_lo, key.x, key.y, key.z) {
        value.x = 1.0;
    }
    let r = reduce_sum(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

// Keeps the largest candidate with at least k keys above it; after 32 rounds a stage's bracket is
// a single value, which becomes that stage's component of the threshold.
@compute @workgroup_size(256)
fn update_key_bracket(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems || problems[p].sel_stage > 2u {
        return;
    }
    // Counts below 2^24 rows per problem (checked on the host): exact in f32.
    let count = u32(problem_total(p).x);
    let lo = problems[p].sel_lo;
    let hi = problems[p].sel_hi;
    let mid = lo + (hi - lo) / 2u + ((hi - lo) & 1u);
    if count >= u32(problems[p].k) {
        problems[p].sel_lo = mid;
    } else {
        problems[p].sel_hi = mid - 1u;
    }
    if problems[p].sel_lo == problems[p].sel_hi {
        let stage = problems[p].sel_stage;
        if stage == 0u {
            problems[p].sel_t1 = problems[p].sel_lo;
        } else if stage == 1u {
            problems[p].sel_t2 = problems[p].sel_lo;
        } else {
            problems[p].sel_t3 = problems[p].sel_lo;
        }
        problems[p].sel_stage = stage + 1u;
        problems[p].sel_lo = 0u;
        problems[p].sel_hi = 0xFFFFFFFFu;
    }
}

// Marks the kept rows (slot V) and counts them per chunk.
@compute @workgroup_size(256)
fn chunk_mark(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let p = ch.x;
    let i = ch.y + lid;
    var value = vec4<f32>(0.0);
    if i < ch.z {
        let kept = key_at_least(i, i - problems[p].row_lo, problems[p].sel_t1, problems[p].sel_t2,
                                problems[p].sel_t3);
        vecs[at(V, i)] = select(0.0, 1.0, kept);
        value.x = select(0.0, 1.0, kept);
    }
    let r = reduce_sum(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

// Exclusive prefix of the chunk counts within each problem (in partials[c].y): one workgroup per
// problem of several chunks, each lane scanning one contiguous run of chunks and a workgroup scan
// of the lanes' sums placing the runs. A problem of one chunk has its prefix, 0, from
// `chunk_mark` already. Counts are integers below 2^24, so every sum is exact.
@compute @workgroup_size(256)
fn scan_chunk_counts(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let p = multi_problem(wid, nwg);
    if p == 0xffffffffu {
        return;
    }
    let lo = problems[p].chunk_lo;
    let hi = problems[p].chunk_hi;
    let per = (hi - lo + WG - 1u) / WG;
    let first = min(lo + lid * per, hi);
    let last = min(first + per, hi);
    var run = 0.0;
    for (var c = first; c < last; c = c + 1u) {
        run = run + partials[c].x;
    }
    scratch[lid] = vec4<f32>(run, 0.0, 0.0, 0.0);
    scan_scratch_x(lid);
    var running = scratch[lid].x - run;
    for (var c = first; c < last; c = c + 1u) {
        let count = partials[c].x;
        partials[c].y = running;
        running = running + count;
    }
}

// Writes each kept row's local index at its rank: a workgroup scan of the mask gives the rank
// within the chunk, the chunk prefix its place within the problem.
@compute @workgroup_size(256)
fn chunk_compact(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let i = ch.y + lid;
    var kept = 0.0;
    if i < ch.z {
        kept = vecs[at(V, i)];
    }
    scratch[lid] = vec4<f32>(kept, 0.0, 0.0, 0.0);
    scan_scratch_x(lid);
    if i < ch.z && kept > 0.0 {
        let row_lo = problems[ch.x].row_lo;
        let rank = u32(partials[c].y) + u32(scratch[lid].x) - 1u;
        // Local indices are below 2^24 (checked on the host), so f32 holds them exactly.
        vecs[at(W, row_lo + rank)] = f32(i - row_lo);
    }
}
