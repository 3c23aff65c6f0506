// Mesh raster pipeline: the same Lambert + ambient/hemisphere/directional lighting, ACES filmic
// and sRGB encoding as `lighting.rs` (written out by hand into an Rgba8Unorm target, so the bytes
// match the CPU reference's rounding).

struct ViewU {
    view_proj: mat4x4<f32>,
    light: vec4<f32>,        // ambient, hemisphere sky, hemisphere ground, hemisphere on (0/1)
    misc: vec4<u32>,         // light count, tone map (1 = ACES filmic)
    lights: array<vec4<f32>, 4>,  // to-light direction, intensity
}

struct MaterialU {
    base_color: vec4<f32>,
    flags: vec4<u32>,        // has texture, alpha mask
    cutoff: vec4<f32>,
}

@group(0) @binding(0) var<uniform> view: ViewU;
@group(1) @binding(0) var<uniform> material: MaterialU;
@group(1) @binding(1) var tex: texture_2d<f32>;
@group(1) @binding(2) var samp: sampler;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) uv: vec2<f32>,
    @location(3) color: vec4<f32>,
}

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) normal: vec3<f32>,
    @location(1) uv: vec2<f32>,
    @location(2) color: vec4<f32>,
}

@vertex
fn vs(v: VertexIn) -> VertexOut {
    var o: VertexOut;
    o.clip = view.view_proj * vec4<f32>(v.position, 1.0);
    o.normal = v.normal;
    o.uv = v.uv;
    o.color = v.color;
    return o;
}

fn aces(c_in: vec3<f32>) -> vec3<f32> {
    let c = c_in / 0.6;
    let v = vec3<f32>(
        0.59719 * c.x + 0.35458 * c.y + 0.04823 * c.z,
        0.07600 * c.x + 0.90834 * c.y + 0.01566 * c.z,
        0.02840 * c.x + 0.13383 * c.y + 0.83777 * c.z);
    let a = v * (v + 0.0245786) - 0.000090537;
    let b = v * (0.983729 * v + 0.4329510) + 0.238081;
    let w = a / b;
    let o = vec3<f32>(
        1.60475 * w.x - 0.53108 * w.y - 0.07367 * w.z,
        -0.10208 * w.x + 1.10813 * w.y - 0.00605 * w.z,
        -0.00327 * w.x - 0.07276 * w.y + 1.07602 * w.z);
    return clamp(o, vec3<f32>(0.0), vec3<f32>(1.0));
}

fn to_srgb(c: f32) -> f32 {
    if (c <= 0.0031308) {
        return c * 12.92;
    }
    return 1.055 * pow(c, 1.0 / 2.4) - 0.055;
}

@fragment
fn fs(v: VertexOut, @builtin(front_facing) front: bool) -> @location(0) vec4<f32> {
    let sampled = textureSample(tex, samp, v.uv);
    var albedo = material.base_color * v.color;
    if (material.flags.x != 0u) {
        albedo = albedo * sampled;
    }
    if (material.flags.y != 0u && albedo.a < material.cutoff.x) {
        discard;
    }
    var n = v.normal;
    let len = sqrt(dot(n, n));
    if (len > 0.0) {
        n = n / len;
    }
    if (!front) {
        n = -n;
    }
    var e = view.light.x;
    if (view.light.w != 0.0) {
        let w = 0.5 * n.y + 0.5;
        e = e + view.light.z + (view.light.y - view.light.z) * w;
    }
    for (var i = 0u; i < view.misc.x; i++) {
        let l = view.lights[i];
        e = e + l.w * max(dot(n, l.xyz), 0.0);
    }
    var c = albedo.rgb * e;
    if (view.misc.y == 1u) {
        c = aces(c);
    }
    c = clamp(c, vec3<f32>(0.0), vec3<f32>(1.0));
    return vec4<f32>(to_srgb(c.x), to_srgb(c.y), to_srgb(c.z), 1.0);
}
