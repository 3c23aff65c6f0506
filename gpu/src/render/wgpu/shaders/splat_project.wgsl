// Per (gaussian, view): EWA projection with the 0.3 px² low-pass, 3-sigma tile rectangle and
// SH colour, exactly the steps of `splat_math::project` and `sh::eval` on the CPU.

struct Chunk {
    base: u32,       // index of this chunk's first gaussian
    count: u32,
    sh_stride: u32,  // floats of SH per gaussian: 3 * (1 + rest coefficients)
    degree: u32,
}

@group(0) @binding(0) var<uniform> view: View;
@group(1) @binding(0) var<uniform> chunk: Chunk;
@group(1) @binding(1) var<storage, read> gauss: array<f32>;   // pos(3), cov(6), opacity: 10 floats
@group(1) @binding(2) var<storage, read> shs: array<f32>;
@group(1) @binding(3) var<storage, read_write> proj: array<vec4<f32>>;  // 3 per gaussian
@group(1) @binding(4) var<storage, read_write> rects: array<vec4<u32>>;
@group(1) @binding(5) var<storage, read_write> keys: array<u32>;
@group(1) @binding(6) var<storage, read_write> idx: array<u32>;

const C0: f32 = 0.28209479;
const C1: f32 = 0.48860251;

fn coeff(o: u32, k: u32) -> vec3<f32> {
    let b = o + 3u + 3u * k;
    return vec3<f32>(shs[b], shs[b + 1u], shs[b + 2u]);
}

fn sh_color(li: u32, d: vec3<f32>) -> vec3<f32> {
    let o = li * chunk.sh_stride;
    var c = C0 * vec3<f32>(shs[o], shs[o + 1u], shs[o + 2u]);
    let x = d.x;
    let y = d.y;
    let z = d.z;
    if (chunk.degree >= 1u) {
        c = c - C1 * y * coeff(o, 0u) + C1 * z * coeff(o, 1u) - C1 * x * coeff(o, 2u);
        if (chunk.degree >= 2u) {
            let xx = x * x;
            let yy = y * y;
            let zz = z * z;
            let xy = x * y;
            let yz = y * z;
            let xz = x * z;
            c = c + 1.0925484 * xy * coeff(o, 3u)
                  + -1.0925484 * yz * coeff(o, 4u)
                  + 0.31539157 * (2.0 * zz - xx - yy) * coeff(o, 5u)
                  + -1.0925484 * xz * coeff(o, 6u)
                  + 0.5462742 * (xx - yy) * coeff(o, 7u);
            if (chunk.degree >= 3u) {
                c = c + -0.5900436 * y * (3.0 * xx - yy) * coeff(o, 8u)
                      + 2.8906114 * xy * z * coeff(o, 9u)
                      + -0.4570458 * y * (4.0 * zz - xx - yy) * coeff(o, 10u)
                      + 0.37317633 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * coeff(o, 11u)
                      + -0.4570458 * x * (4.0 * zz - xx - yy) * coeff(o, 12u)
                      + 1.4453057 * z * (xx - yy) * coeff(o, 13u)
                      + -0.5900436 * x * (xx - 3.0 * yy) * coeff(o, 14u);
            }
        }
    }
    return max(c + 0.5, vec3<f32>(0.0));
}

fn finite(x: f32) -> bool {
    return abs(x) <= 3.4e38;
}

@compute @workgroup_size(256)
fn project(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let li = block_index(wg, nwg) * 256u + lid;
    if (li >= chunk.count) {
        return;
    }
    let g = chunk.base + li;
    keys[g] = 0xffffffffu;
    idx[g] = g;
    rects[g] = vec4<u32>(0u);
    let b = li * 10u;
    let pos = vec3<f32>(gauss[b], gauss[b + 1u], gauss[b + 2u]);
    let r0 = view.rot0.xyz;
    let r1 = view.rot1.xyz;
    let r2 = view.rot2.xyz;
    let t = vec3<f32>(
        r0.x * pos.x + r0.y * pos.y + r0.z * pos.z + view.rot0.w,
        r1.x * pos.x + r1.y * pos.y + r1.z * pos.z + view.rot1.w,
        r2.x * pos.x + r2.y * pos.y + r2.z * pos.z + view.rot2.w);
    if (!(t.z > view.cam.w)) {
        return;
    }
    let fx = view.intr.x;
    let fy = view.intr.y;
    let limx = 1.3 * view.fov.x;
    let limy = 1.3 * view.fov.y;
    let tz = t.z;
    let tx = clamp(t.x / tz, -limx, limx) * tz;
    let ty = clamp(t.y / tz, -limy, limy) * tz;
    let j0 = vec3<f32>(fx / tz, 0.0, -(fx * tx) / (tz * tz));
    let j1 = vec3<f32>(0.0, fy / tz, -(fy * ty) / (tz * tz));
    // M = J W (rows m0, m1)
    let m0 = vec3<f32>(j0.x * r0.x + j0.y * r1.x + j0.z * r2.x,
                       j0.x * r0.y + j0.y * r1.y + j0.z * r2.y,
                       j0.x * r0.z + j0.y * r1.z + j0.z * r2.z);
    let m1 = vec3<f32>(j1.x * r0.x + j1.y * r1.x + j1.z * r2.x,
                       j1.x * r0.y + j1.y * r1.y + j1.z * r2.y,
                       j1.x * r0.z + j1.y * r1.z + j1.z * r2.z);
    let s0 = vec3<f32>(gauss[b + 3u], gauss[b + 4u], gauss[b + 5u]);  // xx xy xz
    let s1 = vec3<f32>(gauss[b + 4u], gauss[b + 6u], gauss[b + 7u]);  // xy yy yz
    let s2 = vec3<f32>(gauss[b + 5u], gauss[b + 7u], gauss[b + 8u]);  // xz yz zz
    let ms0 = vec3<f32>(m0.x * s0.x + m0.y * s1.x + m0.z * s2.x,
                        m0.x * s0.y + m0.y * s1.y + m0.z * s2.y,
                        m0.x * s0.z + m0.y * s1.z + m0.z * s2.z);
    let ms1 = vec3<f32>(m1.x * s0.x + m1.y * s1.x + m1.z * s2.x,
                        m1.x * s0.y + m1.y * s1.y + m1.z * s2.y,
                        m1.x * s0.z + m1.y * s1.z + m1.z * s2.z);
    let a0 = ms0.x * m0.x + ms0.y * m0.y + ms0.z * m0.z;
    let bb = ms0.x * m1.x + ms0.y * m1.y + ms0.z * m1.z;
    let c0 = ms1.x * m1.x + ms1.y * m1.y + ms1.z * m1.z;
    let a = a0 + 0.3;
    let c = c0 + 0.3;
    let det = a * c - bb * bb;
    if (!(det > 0.0) || !finite(det)) {
        return;
    }
    var opacity = gauss[b + 9u];
    if (view.misc.y != 0u) {
        opacity = opacity * sqrt(max((a0 * c0 - bb * bb) / det, 0.0));
    }
    let inv = 1.0 / det;
    let conic = vec3<f32>(c * inv, -bb * inv, a * inv);
    let mid = 0.5 * (a + c);
    let lambda = mid + sqrt(max(mid * mid - det, 0.1));
    let radius = ceil(3.0 * sqrt(lambda));
    let mean = vec2<f32>(fx * t.x / tz + view.intr.z, fy * t.y / tz + view.intr.w);
    if (!finite(radius) || !finite(mean.x) || !finite(mean.y)) {
        return;
    }
    let p = mean - vec2<f32>(0.5);
    let nt = vec2<f32>(f32(view.dims.z), f32(view.dims.w));
    let lo = clamp((p - vec2<f32>(radius)) / 16.0, vec2<f32>(0.0), nt);
    let hi = clamp((p + vec2<f32>(radius + 15.0)) / 16.0, vec2<f32>(0.0), nt);
    let rect = vec4<u32>(u32(lo.x), u32(lo.y), u32(hi.x), u32(hi.y));
    if (rect.x >= rect.z || rect.y >= rect.w) {
        return;
    }
    let d = pos - view.cam.xyz;
    let color = sh_color(li, d / sqrt(d.x * d.x + d.y * d.y + d.z * d.z));
    proj[3u * g] = vec4<f32>(mean, tz, opacity);
    proj[3u * g + 1u] = vec4<f32>(conic, 0.0);
    proj[3u * g + 2u] = vec4<f32>(color, 0.0);
    rects[g] = rect;
    keys[g] = bitcast<u32>(tz);
}
