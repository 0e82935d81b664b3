// ‖K‖₂ of every problem by power iteration from the normalised all-ones vector (as the CPU does):
// W = K V (spmv), then V = W / ‖W‖ per problem; the last ‖W‖ is the estimate, and η = 1/L with
// L = max(2α‖K‖₂, floor).

@compute @workgroup_size(256)
fn chunk_square_norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let c = linear_group(wid, nwg);
    if c >= params.n_chunks {
        return;
    }
    let ch = chunks[c];
    let i = ch.y + lid;
    var value = vec4<f32>(0.0);
    if i < ch.z {
        let w = vecs[at(W, i)];
        value = vec4<f32>(w * w, 0.0, 0.0, 0.0);
    }
    let r = reduce_sum(lid, value);
    if lid == 0u {
        partials[c] = r;
    }
}

@compute @workgroup_size(256)
fn set_norm(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    problems[p].norm = sqrt(problem_total(p).x);
}

@compute @workgroup_size(256)
fn normalize_power_vector(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    let norm = problems[row_problem[i]].norm;
    if norm > 0.0 {
        vecs[at(V, i)] = vecs[at(W, i)] / norm;
    } else {
        vecs[at(V, i)] = 0.0;
    }
}

@compute @workgroup_size(256)
fn set_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let p = gid.x;
    if p >= params.n_problems {
        return;
    }
    let lipschitz = max(2.0 * problems[p].alpha * problems[p].norm, params.lipschitz_floor);
    problems[p].eta = 1.0 / lipschitz;
}
