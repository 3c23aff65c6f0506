// Tile binning: after the depth sort, count tiles per gaussian, scan, emit one (tile, gaussian)
// pair per covered tile in depth order, and (after the stable tile sort) find each tile's range.

@group(0) @binding(0) var<uniform> view: View;
@group(1) @binding(0) var<storage, read> sorted_idx: array<u32>;
@group(1) @binding(1) var<storage, read> rects: array<vec4<u32>>;
@group(1) @binding(2) var<storage, read_write> counts: array<u32>;   // then exclusive offsets
@group(1) @binding(3) var<storage, read_write> n_pairs: array<u32>;  // [0]: pairs of this view
@group(1) @binding(4) var<storage, read_write> totals: array<u32>;   // pairs per view (for the host)
@group(1) @binding(5) var<storage, read_write> pkeys: array<u32>;
@group(1) @binding(6) var<storage, read_write> pvals: array<u32>;
@group(1) @binding(7) var<storage, read_write> ranges: array<vec2<u32>>;

@compute @workgroup_size(256)
fn gather_counts(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let j = block_index(wg, nwg) * 256u + lid;
    if (j >= view.misc.w) {
        return;
    }
    counts[j] = rect_area(rects[sorted_idx[j]]);
}

@compute @workgroup_size(1)
fn total() {
    let last = view.misc.w - 1u;
    let n = counts[last] + rect_area(rects[sorted_idx[last]]);
    n_pairs[0] = min(n, view.misc2.x);
    totals[view.misc2.y] = n;
}

@compute @workgroup_size(256)
fn emit(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let j = block_index(wg, nwg) * 256u + lid;
    if (j >= view.misc.w) {
        return;
    }
    let i = sorted_idx[j];
    let r = rects[i];
    var off = counts[j];
    let cap = view.misc2.x;
    for (var y = r.y; y < r.w; y++) {
        for (var x = r.x; x < r.z; x++) {
            if (off < cap) {
                pkeys[off] = y * view.dims.z + x;
                pvals[off] = i;
            }
            off++;
        }
    }
}

@compute @workgroup_size(256)
fn clear_ranges(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let t = block_index(wg, nwg) * 256u + lid;
    if (t < view.dims.z * view.dims.w) {
        ranges[t] = vec2<u32>(0u);
    }
}

@compute @workgroup_size(256)
fn find_ranges(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let p = block_index(wg, nwg) * 256u + lid;
    let n = min(n_pairs[0], view.misc2.x);
    if (p >= n) {
        return;
    }
    let t = pkeys[p];
    if (p == 0u || pkeys[p - 1u] != t) {
        ranges[t].x = p;
    }
    if (p + 1u == n || pkeys[p + 1u] != t) {
        ranges[t].y = p + 1u;
    }
}
