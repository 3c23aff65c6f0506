// One pass of a stable LSD radix sort with 4-bit digits over (key, value) pairs. Each workgroup
// owns a block of 1024 consecutive items (4 per thread, contiguous, so item order is thread
// order). `count` writes the block's digit histogram to hist[digit * blocks + block]; after an
// exclusive scan of hist, `scatter` ranks each item among equal digits of its block with a
// workgroup scan of 16 packed 16-bit counters and writes it to its final place.

struct Params {
    shift: u32,
    blocks: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> n_items: array<u32>;
@group(0) @binding(2) var<storage, read> keys_in: array<u32>;
@group(0) @binding(3) var<storage, read> vals_in: array<u32>;
@group(0) @binding(4) var<storage, read_write> keys_out: array<u32>;
@group(0) @binding(5) var<storage, read_write> vals_out: array<u32>;
@group(0) @binding(6) var<storage, read_write> hist: array<u32>;

var<workgroup> wg_counts: array<atomic<u32>, 16>;
var<workgroup> scan_lo: array<vec4<u32>, 256>;
var<workgroup> scan_hi: array<vec4<u32>, 256>;

fn block_of(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.x + wg.y * nwg.x;
}

@compute @workgroup_size(256)
fn count(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let block = block_of(wg, nwg);
    if (lid < 16u) {
        atomicStore(&wg_counts[lid], 0u);
    }
    workgroupBarrier();
    let n = n_items[0];
    let base = block * 1024u + lid * 4u;
    for (var k = 0u; k < 4u; k++) {
        let e = base + k;
        if (e < n) {
            atomicAdd(&wg_counts[(keys_in[e] >> params.shift) & 15u], 1u);
        }
    }
    workgroupBarrier();
    if (lid < 16u && block < params.blocks) {
        hist[lid * params.blocks + block] = atomicLoad(&wg_counts[lid]);
    }
}

// Adds one to digit d's 16-bit lane: digits 0..7 live in `lo`, 8..15 in `hi`, two per word.
fn bump(lo: ptr<function, vec4<u32>>, hi: ptr<function, vec4<u32>>, d: u32) {
    let inc = 1u << ((d & 1u) * 16u);
    let w = (d >> 1u) & 3u;
    if (d < 8u) {
        (*lo)[w] += inc;
    } else {
        (*hi)[w] += inc;
    }
}

fn lane(lo: vec4<u32>, hi: vec4<u32>, d: u32) -> u32 {
    let w = (d >> 1u) & 3u;
    var word = hi[w];
    if (d < 8u) {
        word = lo[w];
    }
    return (word >> ((d & 1u) * 16u)) & 0xffffu;
}

@compute @workgroup_size(256)
fn scatter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let block = block_of(wg, nwg);
    let n = n_items[0];
    let base = block * 1024u + lid * 4u;
    var key: array<u32, 4>;
    var digit: array<u32, 4>;
    var lo = vec4<u32>(0u);
    var hi = vec4<u32>(0u);
    for (var k = 0u; k < 4u; k++) {
        let e = base + k;
        digit[k] = 16u;
        if (e < n) {
            key[k] = keys_in[e];
            digit[k] = (key[k] >> params.shift) & 15u;
            bump(&lo, &hi, digit[k]);
        }
    }
    scan_lo[lid] = lo;
    scan_hi[lid] = hi;
    for (var off = 1u; off < 256u; off = off << 1u) {
        workgroupBarrier();
        var a = scan_lo[lid];
        var b = scan_hi[lid];
        if (lid >= off) {
            a = a + scan_lo[lid - off];
            b = b + scan_hi[lid - off];
        }
        workgroupBarrier();
        scan_lo[lid] = a;
        scan_hi[lid] = b;
    }
    workgroupBarrier();
    let before_lo = scan_lo[lid] - lo;
    let before_hi = scan_hi[lid] - hi;
    var seen: array<u32, 16>;
    for (var k = 0u; k < 4u; k++) {
        let d = digit[k];
        if (d < 16u) {
            let dst = hist[d * params.blocks + block] + lane(before_lo, before_hi, d) + seen[d];
            seen[d] = seen[d] + 1u;
            keys_out[dst] = key[k];
            vals_out[dst] = vals_in[base + k];
        }
    }
}
