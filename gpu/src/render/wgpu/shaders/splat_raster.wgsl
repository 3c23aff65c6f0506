// One 16x16 workgroup per tile, one thread per pixel: the tile's gaussians are staged through
// workgroup memory 256 at a time and blended front to back (3DGS: alpha clamped to 0.99,
// skipped below 1/255, stop before T drops under 1e-4). The tile stops when every pixel is done.

@group(0) @binding(0) var<uniform> view: View;
@group(1) @binding(0) var<storage, read> ranges: array<vec2<u32>>;
@group(1) @binding(1) var<storage, read> pvals: array<u32>;
@group(1) @binding(2) var<storage, read> proj: array<vec4<f32>>;
@group(1) @binding(3) var<storage, read_write> pixels: array<u32>;

var<workgroup> s_mean: array<vec4<f32>, 256>;
var<workgroup> s_conic: array<vec4<f32>, 256>;
var<workgroup> s_color: array<vec4<f32>, 256>;
var<workgroup> s_range: vec2<u32>;
var<workgroup> done_count: atomic<u32>;
var<workgroup> done_seen: u32;

// One front-to-back blending step with staged gaussian j (3DGS: skip below 1/255, clamp at
// 0.99, stop before the transmittance drops under 1e-4).
fn blend(j: u32, batch: u32, pix: vec2<f32>, t: ptr<function, f32>, c: ptr<function, vec3<f32>>,
         done: ptr<function, bool>) {
    if (j >= batch || *done) {
        return;
    }
    let m = s_mean[j];
    let co = s_conic[j].xyz;
    let d = m.xy - pix;
    let power = -0.5 * (co.x * d.x * d.x + co.z * d.y * d.y) - co.y * d.x * d.y;
    let alpha = min(0.99, m.w * exp(power));
    if (power > 0.0 || alpha < 1.0 / 255.0) {
        return;
    }
    let next = *t * (1.0 - alpha);
    if (next < 0.0001) {
        *done = true;
        atomicAdd(&done_count, 1u);
        return;
    }
    *c = *c + s_color[j].xyz * (alpha * *t);
    *t = next;
}

@compute @workgroup_size(16, 16)
fn raster(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let px = wg.x * TILE + l.x;
    let py = wg.y * TILE + l.y;
    let inside = px < view.dims.x && py < view.dims.y;
    if (lid == 0u) {
        s_range = ranges[wg.y * view.dims.z + wg.x];
        atomicStore(&done_count, 0u);
    }
    let range = workgroupUniformLoad(&s_range);
    var done = !inside;
    if (done) {
        atomicAdd(&done_count, 1u);
    }
    let pix = vec2<f32>(f32(px) + 0.5, f32(py) + 0.5);
    var t = 1.0;
    var c = vec3<f32>(0.0);
    // The batch loop ends only at its uniform bound; once every pixel is done the remaining
    // batches are skipped rather than broken out of, keeping the barriers trivially uniform.
    let batches = (range.y - range.x + 255u) / 256u;
    for (var b = 0u; b < batches; b++) {
        let start = range.x + b * 256u;
        workgroupBarrier();
        if (lid == 0u) {
            done_seen = atomicLoad(&done_count);
        }
        let all_done = workgroupUniformLoad(&done_seen) >= 256u;
        let k = start + lid;
        if (k < range.y && !all_done) {
            let g = pvals[k];
            s_mean[lid] = proj[3u * g];
            s_conic[lid] = proj[3u * g + 1u];
            s_color[lid] = proj[3u * g + 2u];
        }
        workgroupBarrier();
        let batch = select(min(256u, range.y - start), 0u, all_done);
        // Unrolled by 8: llvmpipe caps every loop at 65535 iterations over an invocation's
        // lifetime, so a plain per-gaussian loop would silently stop after 65535 gaussians.
        for (var j = 0u; j < batch; j += 8u) {
            blend(j, batch, pix, &t, &c, &done);
            blend(j + 1u, batch, pix, &t, &c, &done);
            blend(j + 2u, batch, pix, &t, &c, &done);
            blend(j + 3u, batch, pix, &t, &c, &done);
            blend(j + 4u, batch, pix, &t, &c, &done);
            blend(j + 5u, batch, pix, &t, &c, &done);
            blend(j + 6u, batch, pix, &t, &c, &done);
            blend(j + 7u, batch, pix, &t, &c, &done);
        }
    }
    if (inside) {
        let rgb = c + t * view.bg.xyz;
        pixels[view.misc.z + py * view.dims.x + px] = pack4x8unorm(vec4<f32>(rgb, 1.0));
    }
}
