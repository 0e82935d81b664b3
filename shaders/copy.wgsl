// The device's copy bandwidth, the yardstick for memory-bound kernels (SpMV is judged as a fraction
// of it): one vec4 per invocation, read once and written once, 2-D grid past 65,535 workgroups.

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * 256u + lid;
    if i < arrayLength(&src) {
        dst[i] = src[i];
    }
}
