// Exclusive prefix sum of u32 in place, in blocks of 1024 (4 per thread); `scan_blocks` also
// writes each block's total to `sums`, which the host scans recursively and `add_sums` adds back.

struct Params {
    n: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;

var<workgroup> tmp: array<u32, 256>;

@compute @workgroup_size(256)
fn scan_blocks(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let block = wg.x + wg.y * nwg.x;
    let base = block * 1024u + lid * 4u;
    var local_excl: array<u32, 4>;
    var s = 0u;
    for (var k = 0u; k < 4u; k++) {
        let e = base + k;
        local_excl[k] = s;
        if (e < params.n) {
            s = s + data[e];
        }
    }
    tmp[lid] = s;
    for (var off = 1u; off < 256u; off = off << 1u) {
        workgroupBarrier();
        var v = tmp[lid];
        if (lid >= off) {
            v = v + tmp[lid - off];
        }
        workgroupBarrier();
        tmp[lid] = v;
    }
    workgroupBarrier();
    let before = tmp[lid] - s;
    for (var k = 0u; k < 4u; k++) {
        let e = base + k;
        if (e < params.n) {
            data[e] = before + local_excl[k];
        }
    }
    if (lid == 255u) {
        sums[block] = tmp[255];
    }
}

@compute @workgroup_size(256)
fn add_sums(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let block = wg.x + wg.y * nwg.x;
    let add = sums[block];
    let base = block * 1024u + lid * 4u;
    for (var k = 0u; k < 4u; k++) {
        let e = base + k;
        if (e < params.n) {
            data[e] = data[e] + add;
        }
    }
}
