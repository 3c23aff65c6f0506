//! GPU primitives for the splat pipeline: exclusive scan and a stable 4-bit LSD radix sort of
//! (u32 key, u32 value) pairs, recorded into a caller's compute pass.

use super::Gpu;

pub const BLOCK: u32 = 1024;

/// Dispatches `blocks` workgroups, folding into 2D past the per-dimension limit (the kernels
/// flatten the workgroup id).
pub fn dispatch(pass: &mut wgpu::ComputePass, blocks: u32) {
    if blocks == 0 {
        return;
    }
    let x = blocks.min(65535);
    pass.dispatch_workgroups(x, blocks.div_ceil(x), 1);
}

pub fn blocks(n: u64, per: u32) -> u32 {
    n.div_ceil(per as u64).max(1) as u32
}

pub struct Kernels {
    count: wgpu::ComputePipeline,
    scatter: wgpu::ComputePipeline,
    scan_blocks: wgpu::ComputePipeline,
    add_sums: wgpu::ComputePipeline,
}

impl Kernels {
    pub fn new(gpu: &Gpu) -> Kernels {
        let radix = gpu.shader("radix", include_str!("shaders/radix.wgsl"));
        let scan = gpu.shader("scan", include_str!("shaders/scan.wgsl"));
        Kernels {
            count: gpu.compute(&radix, "count"),
            scatter: gpu.compute(&radix, "scatter"),
            scan_blocks: gpu.compute(&scan, "scan_blocks"),
            add_sums: gpu.compute(&scan, "add_sums"),
        }
    }
}

struct ScanLevel {
    blocks: u32,
    scan: wgpu::BindGroup,
    add: Option<wgpu::BindGroup>,
}

/// In-place exclusive scan of the first `n` u32 of a buffer, with its level buffers.
pub struct Scan {
    levels: Vec<ScanLevel>,
    _buffers: Vec<wgpu::Buffer>,
}

impl Scan {
    pub fn new(gpu: &Gpu, k: &Kernels, data: &wgpu::Buffer, n: u64) -> Scan {
        let mut levels = Vec::new();
        let mut buffers: Vec<wgpu::Buffer> = Vec::new();
        let mut n = n;
        let mut current: Option<usize> = None; // index into buffers; None = `data`
        loop {
            let blocks = blocks(n, BLOCK);
            let sums = gpu.storage("scan sums", blocks as u64 * 4);
            let params = gpu.uniform("scan params", bytemuck::cast_slice(&[n as u32, 0, 0, 0]));
            let target = current.map_or(data, |i| &buffers[i]);
            let scan = gpu.bind(&k.scan_blocks, 0, &[(0, &params), (1, target), (2, &sums)]);
            let add = (blocks > 1)
                .then(|| gpu.bind(&k.add_sums, 0, &[(0, &params), (1, target), (2, &sums)]));
            levels.push(ScanLevel { blocks, scan, add });
            buffers.push(params);
            buffers.push(sums);
            if blocks == 1 {
                break;
            }
            current = Some(buffers.len() - 1);
            n = blocks as u64;
        }
        Scan {
            levels,
            _buffers: buffers,
        }
    }

    pub fn record(&self, k: &Kernels, pass: &mut wgpu::ComputePass) {
        pass.set_pipeline(&k.scan_blocks);
        for l in &self.levels {
            pass.set_bind_group(0, &l.scan, &[]);
            dispatch(pass, l.blocks);
        }
        pass.set_pipeline(&k.add_sums);
        for l in self.levels.iter().rev() {
            if let Some(add) = &l.add {
                pass.set_bind_group(0, add, &[]);
                dispatch(pass, l.blocks);
            }
        }
    }
}

/// A radix sort over ping-pong buffers (`keys[0]`, `vals[0]`) ⇄ (`keys[1]`, `vals[1]`) whose live
/// length is read from `n_buf[0]` on the GPU. After an even number of passes the result is in
/// buffers 0, after an odd number in buffers 1.
pub struct Radix {
    blocks: u32,
    passes: Vec<(wgpu::BindGroup, wgpu::BindGroup)>,
    hist_scan: Scan,
    _buffers: Vec<wgpu::Buffer>,
}

impl Radix {
    pub fn new(
        gpu: &Gpu,
        k: &Kernels,
        keys: [&wgpu::Buffer; 2],
        vals: [&wgpu::Buffer; 2],
        n_buf: &wgpu::Buffer,
        capacity: u64,
        passes: u32,
    ) -> Radix {
        let blocks = blocks(capacity, BLOCK);
        let hist = gpu.storage("radix hist", 16 * blocks as u64 * 4);
        let mut buffers = Vec::new();
        let mut groups = Vec::new();
        for p in 0..passes {
            let params = gpu.uniform("radix params", bytemuck::cast_slice(&[4 * p, blocks, 0, 0]));
            let (src, dst) = ((p % 2) as usize, ((p + 1) % 2) as usize);
            let count = gpu.bind(
                &k.count,
                0,
                &[(0, &params), (1, n_buf), (2, keys[src]), (6, &hist)],
            );
            let scatter = gpu.bind(
                &k.scatter,
                0,
                &[
                    (0, &params),
                    (1, n_buf),
                    (2, keys[src]),
                    (3, vals[src]),
                    (4, keys[dst]),
                    (5, vals[dst]),
                    (6, &hist),
                ],
            );
            groups.push((count, scatter));
            buffers.push(params);
        }
        let hist_scan = Scan::new(gpu, k, &hist, 16 * blocks as u64);
        buffers.push(hist);
        Radix {
            blocks,
            passes: groups,
            hist_scan,
            _buffers: buffers,
        }
    }

    /// Records the first `passes` passes (4 key bits each, from bit 0).
    pub fn record(&self, k: &Kernels, pass: &mut wgpu::ComputePass, passes: usize) {
        for (count, scatter) in self.passes.iter().take(passes) {
            pass.set_pipeline(&k.count);
            pass.set_bind_group(0, count, &[]);
            dispatch(pass, self.blocks);
            self.hist_scan.record(k, pass);
            pass.set_pipeline(&k.scatter);
            pass.set_bind_group(0, scatter, &[]);
            dispatch(pass, self.blocks);
        }
    }
}
