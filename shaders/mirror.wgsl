// Entropic mirror (softmax) ascent for every problem of a batch (SPEC §1.1):
// x ← Π^KL_C(x ⊙ exp(η ∇f)). The exponent is shifted by each problem's max η·g (the KL projection
// is scale-invariant), and the projection caps the entries that reach 1 and rescales the rest.
// λ only grows, so the capped set after a round is {i : λ_prev·v_i ≥ 1}: the same set the CPU
// reference accumulates, found without per-row state.

// Per chunk: (0, max g, 0, max |g|) of the gradient at the current x.
@compute @workgroup_size(256)
fn chunk_gradient_max(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let alpha = problems[ch.x].alpha;
    let i = ch.y + lid;
    var value = vec4<f32>(0.0, -3.0e38, 0.0, 0.0);
    if i < ch.z {
        let g = vecs[at(S, i)] - 2.0 * alpha * vecs[at(Y, i)];
        value = vec4<f32>(0.0, g, 0.0, abs(g));
    }
    let r = reduce_sum_max(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

// η = 1 / max|∇f(x₀)| unless the host set a step (η > 0).
@compute @workgroup_size(256)
fn set_mirror_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems || problems[p].eta > 0.0 {
        return;
    }
    let g_max = max(problem_total(p).w, 0.0);
    if g_max > 0.0 {
        problems[p].eta = 1.0 / g_max;
    } else {
        problems[p].eta = 1.0;
    }
}

@compute @workgroup_size(256)
fn set_shift(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    let g_max = problem_total(p).y;
    problems[p].shift = g_max * problems[p].eta;
}

@compute @workgroup_size(256)
fn mirror_step(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    let p = row_problem[i];
    let g = vecs[at(S, i)] - 2.0 * problems[p].alpha * vecs[at(Y, i)];
    let factor = exp(g * problems[p].eta - problems[p].shift);
    // Floored so that no coordinate underflows to an absorbing zero (as on the CPU).
    vecs[at(V, i)] = max(vecs[at(X, i)] * factor, params.mirror_floor);
}

@compute @workgroup_size(256)
fn kl_init(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    problems[p].tau = 0.0;
    problems[p].capped_prev = -1.0;
    let size = f32(problems[p].row_hi - problems[p].row_lo);
    problems[p].proj_done = select(0u, 1u, problems[p].converged != 0u || problems[p].k >= size);
}

// Per chunk: (Σ v over the uncapped, number capped) for the current λ (kept in `tau`).
@compute @workgroup_size(256)
fn chunk_kl_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let lambda = problems[ch.x].tau;
    let i = ch.y + lid;
    var value = vec4<f32>(0.0);
    if i < ch.z {
        let v = vecs[at(V, i)];
        if lambda * v >= 1.0 {
            value = vec4<f32>(0.0, 1.0, 0.0, 0.0);
        } else {
            value = vec4<f32>(v, 0.0, 0.0, 0.0);
        }
    }
    let r = reduce_sum(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

@compute @workgroup_size(256)
fn update_lambda(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems || problems[p].proj_done != 0u {
        return;
    }
    let total = problem_total(p);
    let capped = total.y;
    if capped == problems[p].capped_prev {
        // Nothing new reached 1: the current λ is the projection's.
        problems[p].proj_done = 1u;
        return;
    }
    problems[p].capped_prev = capped;
    let k = problems[p].k;
    if total.x > 0.0 {
        problems[p].tau = (k - capped) / total.x;
    } else {
        problems[p].tau = 3.0e38;
    }
    if capped >= k {
        problems[p].proj_done = 1u;
    }
}

@compute @workgroup_size(256)
fn apply_kl(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    let p = row_problem[i];
    if problems[p].converged != 0u {
        vecs[at(XN, i)] = vecs[at(X, i)];
    } else {
        vecs[at(XN, i)] = min(1.0, problems[p].tau * vecs[at(V, i)]);
    }
}
