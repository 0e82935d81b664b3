// Segmented projection onto the capped simplex (SPEC §1.2) for every problem of a batch at once:
// bisection on τ per problem, safeguarding a Newton step on the piecewise-linear sum, exactly the
// scheme of the CPU reference. Chunk kernels reduce 256 rows each, `combine_*` (common.wgsl) folds
// a problem's chunks, and problem kernels update the bracket from the total. The vector projected is slot V; the result goes to XN.

@compute @workgroup_size(256)
fn chunk_min_max(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let i = ch.y + lid;
    var value = vec4<f32>(3.0e38, -3.0e38, 0.0, 0.0);
    if i < ch.z {
        let v = vecs[at(V, i)];
        value = vec4<f32>(v, v, 0.0, 0.0);
    }
    let r = reduce_min_max(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

// The starting bracket of problem p's τ from the (min v, max v) of its rows.
fn bracket_from_range(p: u32, range: vec4<f32>) {
    let lo = range.x;
    let hi = range.y;
    // Σ(min v − 1) = size ≥ k and Σ(max v) = 0 ≤ k bracket the root.
    problems[p].tau_lo = lo - 1.0;
    problems[p].tau_hi = hi;
    let size = f32(problems[p].row_hi - problems[p].row_lo);
    if problems[p].k >= size || problems[p].converged != 0u {
        problems[p].tau = lo - 1.0;
        problems[p].proj_done = 1u;
    } else {
        problems[p].tau = 0.5 * ((lo - 1.0) + hi);
        problems[p].proj_done = 0u;
    }
}

@compute @workgroup_size(256)
fn init_bracket(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    bracket_from_range(p, problem_total(p));
}

// One row's part of Σ clamp(v − τ, 0, 1) and of its Newton step:
// (clipped sum, free count, Σ v over free, capped count), as in the CPU's `sum_at`.
fn clipped_terms(v: f32, tau: f32) -> vec4<f32> {
    let t = v - tau;
    if t >= 1.0 {
        return vec4<f32>(1.0, 0.0, 0.0, 1.0);
    } else if t > 0.0 {
        return vec4<f32>(t, 1.0, v, 0.0);
    }
    return vec4<f32>(0.0);
}

@compute @workgroup_size(256)
fn chunk_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let tau = problems[ch.x].tau;
    let i = ch.y + lid;
    var value = vec4<f32>(0.0);
    if i < ch.z {
        value = clipped_terms(vecs[at(V, i)], tau);
    }
    let r = reduce_sum(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

// One bisection step on problem p's τ, safeguarding a Newton step, from the totals of
// `clipped_terms` at the current τ; sets proj_done once the sum is within tolerance or the bracket
// has collapsed.
fn tau_step(p: u32, total: vec4<f32>) {
    let k = problems[p].k;
    let residual = total.x - k;
    if abs(residual) <= params.sum_tolerance * k {
        problems[p].proj_done = 1u;
        return;
    }
    var lo = problems[p].tau_lo;
    var hi = problems[p].tau_hi;
    let tau = problems[p].tau;
    if residual > 0.0 {
        lo = tau;
    } else {
        hi = tau;
    }
    var next = 0.5 * (lo + hi);
    if total.y > 0.0 {
        let newton = (total.w + total.z - k) / total.y;
        if newton > lo && newton < hi {
            next = newton;
        }
    }
    problems[p].tau_lo = lo;
    problems[p].tau_hi = hi;
    problems[p].tau = next;
    if next <= lo || next >= hi {
        // The bracket has collapsed to float resolution.
        problems[p].proj_done = 1u;
    }
}

@compute @workgroup_size(256)
fn update_tau(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems || problems[p].proj_done != 0u {
        return;
    }
    tau_step(p, problem_total(p));
}

@compute @workgroup_size(256)
fn apply_projection(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    let p = row_problem[i];
    if problems[p].converged != 0u {
        vecs[at(XN, i)] = vecs[at(X, i)];
    } else {
        vecs[at(XN, i)] = clamp(vecs[at(V, i)] - problems[p].tau, 0.0, 1.0);
    }
}
