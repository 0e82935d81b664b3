// One projected-gradient iteration for every problem of a batch (SPEC §1.1), with the CPU
// reference's monotone safeguard: a step that lowers the relaxed f is rejected and its problem's
// step halved. Problems that converged stop changing; the host reads the flags every few
// iterations, never every one.

// Row i's point to project, x + η ∇f with ∇f = s − 2α K x (the gradient is never stored).
fn pg_point(p: u32, i: u32) -> f32 {
    let gradient = vecs[at(S, i)] - 2.0 * problems[p].alpha * vecs[at(Y, i)];
    return vecs[at(X, i)] + problems[p].eta * gradient;
}

// Row i's part of the objective of slot x_slot with its K x in slot y_slot, and of
// max |x − X| (how far the candidate moved).
fn objective_term(alpha: f32, i: u32, x_slot: u32, y_slot: u32) -> vec4<f32> {
    let x = vecs[at(x_slot, i)];
    let f = x * (vecs[at(S, i)] - alpha * vecs[at(y_slot, i)]);
    return vec4<f32>(f, abs(x - vecs[at(X, i)]), 0.0, 0.0);
}

@compute @workgroup_size(256)
fn pg_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    vecs[at(V, i)] = pg_point(row_problem[i], i);
}

// Per chunk: Σ x(s − α y) of the slots given by params.src (x) and params.dst (y), and, for the
// candidate step, max |x_new − x|.
@compute @workgroup_size(256)
fn chunk_objective(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let alpha = problems[ch.x].alpha;
    let i = ch.y + lid;
    var value = vec4<f32>(0.0);
    if i < ch.z {
        value = objective_term(alpha, i, params.src, params.dst);
    }
    let r = reduce_sum_max(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

@compute @workgroup_size(256)
fn set_objective(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    problems[p].f = problem_total(p).x;
}

// The candidate's relaxed f and ‖x_new − x‖_∞, from chunk_objective's partials.
fn measure(p: u32) {
    let total = problem_total(p);
    problems[p].f_new = total.x;
    problems[p].delta = max(total.y, 0.0);
}

// AscentState::judge of crates/infoprune-core/src/solver/ascent.rs, line for line, with its rule's
// constants in params: the one definition of the step rule, the safeguard and the stops. The wgpu
// tests run that Rust over these same kernels and require this loop's trace bit for bit.
fn judge(p: u32) {
    let f_new = problems[p].f_new;
    let f = problems[p].f;
    if f_new < f - params.ascent_slack * max(abs(f), 1.0) {
        problems[p].accepted = 0u;
        problems[p].backtracks = problems[p].backtracks + 1u;
        if problems[p].backtracks > params.max_backtracks {
            problems[p].converged = STOP_NO_ASCENT;
            return;
        }
        problems[p].eta = problems[p].eta * 0.5;
        return;
    }
    problems[p].accepted = 1u;
    problems[p].backtracks = 0u;
    problems[p].eta = problems[p].eta * params.step_growth;
    problems[p].f = f_new;
    if params.trace_stride > 0u && problems[p].iterations < params.trace_stride {
        vecs[params.trace_base + p * params.trace_stride + problems[p].iterations] = f_new;
    }
    problems[p].iterations = problems[p].iterations + 1u;
    if problems[p].delta < params.tolerance {
        problems[p].converged = STOP_TOLERANCE;
    } else if problems[p].iterations >= problems[p].max_iterations {
        problems[p].converged = STOP_ITERATION_LIMIT;
    }
}

@compute @workgroup_size(256)
fn accept_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    if problems[p].converged != 0u {
        problems[p].accepted = 0u;
        return;
    }
    measure(p);
    judge(p);
}

// Only the measurement, for the host-stepped loop (the core's executor over these kernels).
@compute @workgroup_size(256)
fn measure_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems || problems[p].converged != 0u {
        return;
    }
    measure(p);
}

@compute @workgroup_size(256)
fn commit_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    if problems[row_problem[i]].accepted != 0u {
        vecs[at(X, i)] = vecs[at(XN, i)];
        vecs[at(Y, i)] = vecs[at(YN, i)];
    }
}

// Swap-refinement gains (SPEC §1.1): with the 0/1 indicator of the kept set in XN and YN = K·XN,
// W = s − 2α·(K x): the gain of adding an outsider, the value of keeping an insider.
@compute @workgroup_size(256)
fn swap_gains(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    let alpha = problems[row_problem[i]].alpha;
    vecs[at(W, i)] = vecs[at(S, i)] - 2.0 * alpha * vecs[at(YN, i)];
}

// The convergence flag: cleared by one invocation, then every unconverged problem adds one.
// Integer atomics, so the count is exact whatever the order.
@compute @workgroup_size(1)
fn clear_flags() {
    atomicStore(&flags[0], 0u);
}

@compute @workgroup_size(256)
fn count_unconverged(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let p = linear_group(wid, nwg) * WG + lid;
    if p < params.n_problems && problems[p].converged == 0u {
        atomicAdd(&flags[0], 1u);
    }
}
