// Whole projected-gradient solves of small problems (token samples, small partitions): one
// workgroup per problem runs every iteration (the step, the projection, K x, the objective, the
// judgement and the commit) inside one dispatch, with the problem's totals reduced in workgroup
// memory instead of through chunk partials and second-level combines. Compiled with common.wgsl,
// spmv.wgsl, projection.wgsl and pg.wgsl: every row term and every per-problem decision is the
// batch kernels' own function (pg_point, clipped_terms, tau_step, row_times, objective_term,
// judge), so the step rule stays the core's (`ascent::AscentState::judge`). Only the order of the
// sums differs from the batch kernels, so results agree with them to f32 rounding, not bit for bit.

var<workgroup> shared_flag: u32;

// `value` of invocation 0 to every invocation, after every invocation's storage writes so far
// are visible to the whole workgroup. Uniform, so loops may branch on it around barriers.
fn broadcast(lid: u32, value: u32) -> u32 {
    if lid == 0u {
        shared_flag = value;
    }
    storageBarrier();
    return workgroupUniformLoad(&shared_flag);
}

// `reduce`, then a barrier, so that the next reduction cannot overwrite scratch[0] before every
// invocation has read this one.
fn reduce_and_sync(lid: u32, value: vec4<f32>, op: u32) -> vec4<f32> {
    let r = reduce(lid, value, op);
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(256)
fn fused_pg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let p = linear_group(wid, nwg);
    if p >= params.n_problems {
        return;
    }
    let lo = problems[p].row_lo;
    let hi = problems[p].row_hi;
    let alpha = problems[p].alpha;
    // Each attempt accepts a step or halves it, and a problem accepts within every
    // max_backtracks + 1 attempts or stops: a bound that only a broken rule could reach.
    // Values loaded from storage are not uniform; invocation 0's, broadcast, are.
    var own_bound = 0xffffffffu;
    var start = 0u;
    if lid == 0u {
        let limit = problems[p].max_iterations;
        if limit < 0xffffffu {
            own_bound = (limit + 1u) * (params.max_backtracks + 1u);
        }
        start = select(0u, 1u, problems[p].converged == 0u);
    }
    let bound = broadcast(lid, own_bound);
    var running = broadcast(lid, start);
    for (var attempt = 0u; attempt < bound && running != 0u; attempt = attempt + 1u) {
        for (var i = lo + lid; i < hi; i = i + WG) {
            vecs[at(V, i)] = pg_point(p, i);
        }
        var range = identity(MIN_MAX);
        for (var i = lo + lid; i < hi; i = i + WG) {
            let v = vecs[at(V, i)];
            range = fold(MIN_MAX, range, vec4<f32>(v, v, 0.0, 0.0));
        }
        range = reduce_and_sync(lid, range, MIN_MAX);
        var done = 0u;
        if lid == 0u {
            bracket_from_range(p, range);
            done = problems[p].proj_done;
        }
        done = broadcast(lid, done);
        for (var round = 0u; round < PROJECTION_ROUNDS && done == 0u; round = round + 1u) {
            let tau = problems[p].tau;
            var sums = vec4<f32>(0.0);
            for (var i = lo + lid; i < hi; i = i + WG) {
                sums = sums + clipped_terms(vecs[at(V, i)], tau);
            }
            sums = reduce_and_sync(lid, sums, SUM);
            var finished = 0u;
            if lid == 0u {
                tau_step(p, sums);
                finished = problems[p].proj_done;
            }
            done = broadcast(lid, finished);
        }
        let tau = problems[p].tau;
        for (var i = lo + lid; i < hi; i = i + WG) {
            vecs[at(XN, i)] = clamp(vecs[at(V, i)] - tau, 0.0, 1.0);
        }
        storageBarrier();
        for (var i = lo + lid; i < hi; i = i + WG) {
            vecs[at(YN, i)] = row_times(i, XN * params.n, 1u, 0u);
        }
        storageBarrier();
        var total = identity(SUM_MAX);
        for (var i = lo + lid; i < hi; i = i + WG) {
            total = fold(SUM_MAX, total, objective_term(alpha, i, XN, YN));
        }
        total = reduce_and_sync(lid, total, SUM_MAX);
        var accepted = 0u;
        if lid == 0u {
            problems[p].f_new = total.x;
            problems[p].delta = max(total.y, 0.0);
            judge(p);
            accepted = problems[p].accepted;
        }
        if broadcast(lid, accepted) != 0u {
            for (var i = lo + lid; i < hi; i = i + WG) {
                vecs[at(X, i)] = vecs[at(XN, i)];
                vecs[at(Y, i)] = vecs[at(YN, i)];
            }
        }
        var still = 0u;
        if lid == 0u {
            still = select(0u, 1u, problems[p].converged == 0u);
        }
        running = broadcast(lid, still);
    }
}
