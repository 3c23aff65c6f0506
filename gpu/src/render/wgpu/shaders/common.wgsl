// Shared by the splat kernels: per-view constants (mirrors `ViewUniform` in splat.rs).
struct View {
    rot0: vec4<f32>,   // world-to-camera rows (OpenCV axes), translation in w
    rot1: vec4<f32>,
    rot2: vec4<f32>,
    cam: vec4<f32>,    // camera position, near plane
    intr: vec4<f32>,   // fx, fy, cx, cy
    fov: vec4<f32>,    // tan(fov_x / 2), tan(fov_y / 2)
    bg: vec4<f32>,     // background colour in [0, 1]
    dims: vec4<u32>,   // width, height, tiles_x, tiles_y
    misc: vec4<u32>,   // sh degree, antialiased, output offset (pixels), gaussian count
    misc2: vec4<u32>,  // pair capacity, view index
}

const TILE: u32 = 16u;

// Flattened workgroup index of a (possibly 2D) dispatch.
fn block_index(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.x + wg.y * nwg.x;
}

fn rect_area(r: vec4<u32>) -> u32 {
    return (r.z - r.x) * (r.w - r.y);
}
