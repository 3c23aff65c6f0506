//! The wgpu backend: compute-shader splats (tile binning, GPU radix sort, per-tile blending) and
//! a raster pipeline for meshes. Headless; Vulkan on Linux (lavapipe in CI, NVIDIA on the GPU
//! machine), Metal/DX12 elsewhere. WGSL sources live in `wgpu/shaders/` beside their drivers.

mod mesh;
mod sort;
mod splat;

use std::sync::{Arc, Mutex};

use image::RgbImage;

use super::{Backend, Renderer, SplatOptions, View};
use crate::assets::mesh::Mesh;
use crate::assets::splats::Splats;
use crate::error::RenderError;

/// An open device and queue.
pub(crate) struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
}

impl Gpu {
    /// Largest single storage binding (and buffer) we may create.
    pub fn max_binding(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    pub fn shader(&self, label: &str, source: &str) -> wgpu::ShaderModule {
        self.device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            })
    }

    pub fn compute(&self, module: &wgpu::ShaderModule, entry: &str) -> wgpu::ComputePipeline {
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
    }

    /// A bind group for `group` of an auto-layout pipeline; entries are (binding, buffer).
    pub fn bind(
        &self,
        pipeline: &wgpu::ComputePipeline,
        group: u32,
        entries: &[(u32, &wgpu::Buffer)],
    ) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = entries
            .iter()
            .map(|(b, buf)| wgpu::BindGroupEntry {
                binding: *b,
                resource: buf.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(group),
            entries: &entries,
        })
    }

    pub fn storage(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    pub fn storage_init(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        let buf = self.storage(label, data.len() as u64);
        self.queue.write_buffer(&buf, 0, data);
        buf
    }

    pub fn uniform(&self, label: &str, data: &[u8]) -> wgpu::Buffer {
        let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (data.len() as u64).next_multiple_of(16),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue.write_buffer(&buf, 0, data);
        buf
    }

    pub fn readback(&self, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Checks a buffer size against the device's binding limit.
    pub fn check_size(&self, bytes: u64) -> Result<(), RenderError> {
        if bytes > self.max_binding() {
            return Err(RenderError::GpuBufferTooLarge {
                needed: bytes,
                limit: self.max_binding(),
            });
        }
        Ok(())
    }

    /// Submits, waits, and maps `buffers` for reading.
    pub fn submit_and_map(
        &self,
        encoder: wgpu::CommandEncoder,
        buffers: &[&wgpu::Buffer],
    ) -> Result<(), RenderError> {
        let index = self.queue.submit([encoder.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        for (i, b) in buffers.iter().enumerate() {
            let tx = tx.clone();
            b.map_async(wgpu::MapMode::Read, .., move |r| {
                let _ = tx.send((i, r));
            });
        }
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map_err(|e| RenderError::Gpu(format!("waiting for the GPU: {e}")))?;
        drop(tx);
        for _ in buffers {
            match rx.recv() {
                Ok((_, Ok(()))) => {}
                Ok((i, Err(e))) => {
                    return Err(RenderError::Gpu(format!(
                        "mapping readback buffer {i}: {e}"
                    )))
                }
                Err(_) => return Err(RenderError::Gpu("readback was never mapped".into())),
            }
        }
        Ok(())
    }

    /// Runs `f`, turning wgpu validation and out-of-memory errors into `RenderError`.
    pub fn scoped<T>(&self, f: impl FnOnce() -> Result<T, RenderError>) -> Result<T, RenderError> {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = f();
        let v = pollster::block_on(validation.pop());
        let o = pollster::block_on(oom.pop());
        if let Some(e) = v.or(o) {
            return Err(RenderError::Gpu(e.to_string()));
        }
        out
    }
}

/// Describes the adapters wgpu can see (for diagnostics and `sn17 render --backend` errors).
pub fn adapters() -> Vec<wgpu::AdapterInfo> {
    let instance = instance();
    pollster::block_on(instance.enumerate_adapters(backends()))
        .iter()
        .map(|a| a.get_info())
        .collect()
}

fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env()
        .unwrap_or(wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12)
}

fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: backends(),
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    })
}

fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn open(allow_software: bool) -> Result<Gpu, RenderError> {
    let unavailable = |reason: String| RenderError::BackendUnavailable {
        backend: "wgpu",
        reason,
    };
    let instance = instance();
    let mut adapters = pollster::block_on(instance.enumerate_adapters(backends()));
    adapters.sort_by_key(|a| rank(a.get_info().device_type));
    let adapter = adapters
        .into_iter()
        .find(|a| allow_software || a.get_info().device_type != wgpu::DeviceType::Cpu)
        .ok_or_else(|| {
            unavailable(if allow_software {
                "no GPU adapter found (on Linux install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers)".into()
            } else {
                "no hardware GPU adapter found".into()
            })
        })?;
    let info = adapter.get_info();
    let limits = adapter.limits();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("sn17"),
        required_features: wgpu::Features::empty(),
        required_limits: limits.clone(),
        ..Default::default()
    }))
    .map_err(|e| unavailable(format!("opening {}: {e}", info.name)))?;
    // Errors are collected through error scopes; anything escaping them is logged, not a panic.
    device.on_uncaptured_error(Arc::new(|e| tracing::error!("wgpu: {e}")));
    Ok(Gpu {
        device,
        queue,
        info,
        limits,
    })
}

/// The wgpu renderer. Calls are serialised on the device.
pub struct WgpuRenderer {
    gpu: Gpu,
    splat: splat::SplatPipelines,
    mesh: mesh::MeshPipelines,
    lock: Mutex<splat::State>,
}

impl WgpuRenderer {
    /// Opens the best adapter; with `allow_software` false, CPU adapters (lavapipe) are refused.
    pub fn new(allow_software: bool) -> Result<WgpuRenderer, RenderError> {
        let gpu = open(allow_software)?;
        let (splat, mesh) = gpu.scoped(|| {
            Ok((
                splat::SplatPipelines::new(&gpu),
                mesh::MeshPipelines::new(&gpu),
            ))
        })?;
        Ok(WgpuRenderer {
            gpu,
            splat,
            mesh,
            lock: Mutex::new(splat::State::default()),
        })
    }

    /// Whether the adapter is a software rasterizer (lavapipe, llvmpipe, WARP).
    pub fn is_software(&self) -> bool {
        self.gpu.info.device_type == wgpu::DeviceType::Cpu
    }
}

impl Renderer for WgpuRenderer {
    fn backend(&self) -> Backend {
        Backend::Wgpu
    }

    fn description(&self) -> String {
        let i = &self.gpu.info;
        format!(
            "wgpu {:?} {:?} '{}' ({} {})",
            i.backend, i.device_type, i.name, i.driver, i.driver_info
        )
    }

    fn render_splats(
        &self,
        splats: &Splats,
        views: &[View],
        opts: &SplatOptions,
    ) -> Result<Vec<RgbImage>, RenderError> {
        super::check_views(views)?;
        let mut state = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.gpu
            .scoped(|| splat::render(&self.gpu, &self.splat, &mut state, splats, views, opts))
    }

    fn render_mesh(&self, mesh: &Mesh, views: &[View]) -> Result<Vec<RgbImage>, RenderError> {
        super::check_views(views)?;
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.gpu
            .scoped(|| mesh::render(&self.gpu, &self.mesh, mesh, views))
    }
}
