// y = K x over a block-diagonal batch (one CSR with global indices): one row per invocation, each
// row summed in column order, so results are deterministic. With nrhs > 1 the matrix row is read
// once for every right-hand side (x and y row-major, n × nrhs, at element offsets src and dst).

// Row i of K times right-hand side r of the n × nrhs block at element offset src.
fn row_times(i: u32, src: u32, nrhs: u32, r: u32) -> f32 {
    var acc = 0.0;
    for (var e = indptr[i]; e < indptr[i + 1u]; e = e + 1u) {
        acc = acc + values[e] * vecs[src + indices[e] * nrhs + r];
    }
    return acc;
}

@compute @workgroup_size(256)
fn spmv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    let nrhs = params.nrhs;
    for (var r = 0u; r < nrhs; r = r + 1u) {
        vecs[params.dst + i * nrhs + r] = row_times(i, params.src, nrhs, r);
    }
}
