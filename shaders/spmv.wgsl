// y = K x over a block-diagonal batch (one CSR with global indices): one row per invocation, each
// row summed in column order, so results are deterministic. With nrhs > 1 the matrix row is read
// once for every right-hand side (x and y row-major, n × nrhs, at element offsets src and dst).

@compute @workgroup_size(256)
fn spmv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = linear_group(wid, nwg) * WG + lid;
    if i >= params.n {
        return;
    }
    let lo = indptr[i];
    let hi = indptr[i + 1u];
    let nrhs = params.nrhs;
    for (var r = 0u; r < nrhs; r = r + 1u) {
        var acc = 0.0;
        for (var p = lo; p < hi; p = p + 1u) {
            acc = acc + values[p] * vecs[params.src + indices[p] * nrhs + r];
        }
        vecs[params.dst + i * nrhs + r] = acc;
    }
}
