//! Drives the mesh raster pipeline: depth test, back-face culling unless double sided, base
//! colour texture through an sRGB texture and a linear sampler (no mipmaps), per-view lighting.

use image::RgbImage;

use super::Gpu;
use crate::assets::mesh::{AlphaMode, Mesh, Vertex, Wrap};
use crate::error::RenderError;
use crate::lighting::{ToneMap, MAX_LIGHTS};
use crate::render::View;

const COLOR: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
const DEPTH: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

pub struct MeshPipelines {
    culled: wgpu::RenderPipeline,
    two_sided: wgpu::RenderPipeline,
    view_layout: wgpu::BindGroupLayout,
    material_layout: wgpu::BindGroupLayout,
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct ViewU {
    view_proj: [[f32; 4]; 4],
    light: [f32; 4],
    misc: [u32; 4],
    lights: [[f32; 4]; MAX_LIGHTS],
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct MaterialU {
    base_color: [f32; 4],
    flags: [u32; 4],
    cutoff: [f32; 4],
}

impl MeshPipelines {
    pub fn new(gpu: &Gpu) -> MeshPipelines {
        let module = gpu.shader("mesh", include_str!("shaders/mesh.wgsl"));
        let uniform = |binding, visibility| wgpu::BindGroupLayoutEntry {
            binding,
            visibility,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let view_layout = gpu
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("mesh view"),
                entries: &[uniform(
                    0,
                    wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
                )],
            });
        let material_layout =
            gpu.device
                .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: Some("mesh material"),
                    entries: &[
                        uniform(0, wgpu::ShaderStages::FRAGMENT),
                        wgpu::BindGroupLayoutEntry {
                            binding: 1,
                            visibility: wgpu::ShaderStages::FRAGMENT,
                            ty: wgpu::BindingType::Texture {
                                sample_type: wgpu::TextureSampleType::Float { filterable: true },
                                view_dimension: wgpu::TextureViewDimension::D2,
                                multisampled: false,
                            },
                            count: None,
                        },
                        wgpu::BindGroupLayoutEntry {
                            binding: 2,
                            visibility: wgpu::ShaderStages::FRAGMENT,
                            ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                            count: None,
                        },
                    ],
                });
        let layout = gpu
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("mesh"),
                bind_group_layouts: &[Some(&view_layout), Some(&material_layout)],
                immediate_size: 0,
            });
        let pipeline = |cull: Option<wgpu::Face>| {
            gpu.device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("mesh"),
                layout: Some(&layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some("vs"),
                    compilation_options: Default::default(),
                    buffers: &[Some(wgpu::VertexBufferLayout {
                        array_stride: std::mem::size_of::<Vertex>() as u64,
                        step_mode: wgpu::VertexStepMode::Vertex,
                        attributes: &wgpu::vertex_attr_array![0 => Float32x3, 1 => Float32x3, 2 => Float32x2, 3 => Float32x4],
                    })],
                },
                primitive: wgpu::PrimitiveState {
                    topology: wgpu::PrimitiveTopology::TriangleList,
                    front_face: wgpu::FrontFace::Ccw,
                    cull_mode: cull,
                    ..Default::default()
                },
                depth_stencil: Some(wgpu::DepthStencilState {
                    format: DEPTH,
                    depth_write_enabled: Some(true),
                    depth_compare: Some(wgpu::CompareFunction::Less),
                    stencil: Default::default(),
                    bias: Default::default(),
                }),
                multisample: Default::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some("fs"),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState { format: COLOR, blend: None, write_mask: wgpu::ColorWrites::ALL })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        MeshPipelines {
            culled: pipeline(Some(wgpu::Face::Back)),
            two_sided: pipeline(None),
            view_layout,
            material_layout,
        }
    }
}

fn address(w: Wrap) -> wgpu::AddressMode {
    match w {
        Wrap::Repeat => wgpu::AddressMode::Repeat,
        Wrap::MirroredRepeat => wgpu::AddressMode::MirrorRepeat,
        Wrap::ClampToEdge => wgpu::AddressMode::ClampToEdge,
    }
}

fn texture(gpu: &Gpu, w: u32, h: u32, rgba: &[u8]) -> Result<wgpu::Texture, RenderError> {
    let max = gpu.limits.max_texture_dimension_2d;
    if w > max || h > max {
        return Err(RenderError::GpuBufferTooLarge {
            needed: w.max(h) as u64,
            limit: max as u64,
        });
    }
    let size = wgpu::Extent3d {
        width: w,
        height: h,
        depth_or_array_layers: 1,
    };
    let t = gpu.device.create_texture(&wgpu::TextureDescriptor {
        label: Some("base colour"),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8UnormSrgb,
        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    gpu.queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture: &t,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        rgba,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(4 * w),
            rows_per_image: Some(h),
        },
        size,
    );
    Ok(t)
}

pub fn render(
    gpu: &Gpu,
    p: &MeshPipelines,
    mesh: &Mesh,
    views: &[View],
) -> Result<Vec<RgbImage>, RenderError> {
    use wgpu::util::DeviceExt;
    if mesh
        .indices
        .iter()
        .any(|&i| i as usize >= mesh.vertices.len())
    {
        return Err(RenderError::InvalidView("mesh index out of range".into()));
    }
    let vbuf = gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("vertices"),
            contents: bytemuck::cast_slice(&mesh.vertices),
            usage: wgpu::BufferUsages::VERTEX,
        });
    let ibuf = gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("indices"),
            contents: bytemuck::cast_slice(&mesh.indices),
            usage: wgpu::BufferUsages::INDEX,
        });
    let textures: Vec<wgpu::Texture> = mesh
        .textures
        .iter()
        .map(|t| texture(gpu, t.width, t.height, &t.rgba))
        .collect::<Result<_, _>>()?;
    let white = texture(gpu, 1, 1, &[255; 4])?;
    let views_of: Vec<wgpu::TextureView> = textures
        .iter()
        .map(|t| t.create_view(&Default::default()))
        .collect();
    let white_view = white.create_view(&Default::default());

    // One bind group per material (same layout in both pipelines).
    let materials: Vec<wgpu::BindGroup> = mesh
        .materials
        .iter()
        .map(|m| {
            let tex = m.base_color_texture.filter(|t| t.texture < views_of.len());
            let (ws, wt) = tex.map_or((Wrap::Repeat, Wrap::Repeat), |t| (t.wrap_s, t.wrap_t));
            let sampler = gpu.device.create_sampler(&wgpu::SamplerDescriptor {
                address_mode_u: address(ws),
                address_mode_v: address(wt),
                mag_filter: wgpu::FilterMode::Linear,
                min_filter: wgpu::FilterMode::Linear,
                mipmap_filter: wgpu::MipmapFilterMode::Nearest,
                ..Default::default()
            });
            let u = MaterialU {
                base_color: m.base_color,
                flags: [
                    tex.is_some() as u32,
                    matches!(m.alpha_mode, AlphaMode::Mask(_)) as u32,
                    0,
                    0,
                ],
                cutoff: [m.alpha_cutoff().unwrap_or(0.5), 0.0, 0.0, 0.0],
            };
            let ubuf = gpu.uniform("material", bytemuck::bytes_of(&u));
            let view = tex.map_or(&white_view, |t| &views_of[t.texture]);
            gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("material"),
                layout: &p.material_layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: ubuf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(view),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::Sampler(&sampler),
                    },
                ],
            })
        })
        .collect();

    let mut images = Vec::with_capacity(views.len());
    // Render views one submission at a time so memory stays at one target.
    for view in views {
        let (w, h) = (view.camera.width, view.camera.height);
        let max = gpu.limits.max_texture_dimension_2d;
        if w == 0 || h == 0 || w > max || h > max {
            return Err(RenderError::InvalidView(format!(
                "{w}x{h} is outside 1..={max}"
            )));
        }
        let size = wgpu::Extent3d {
            width: w,
            height: h,
            depth_or_array_layers: 1,
        };
        let target = |format, usage| {
            gpu.device.create_texture(&wgpu::TextureDescriptor {
                label: None,
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let color = target(
            COLOR,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        let depth = target(DEPTH, wgpu::TextureUsages::RENDER_ATTACHMENT);
        let l = &view.lighting;
        let mut lights = [[0.0f32; 4]; MAX_LIGHTS];
        for (dst, src) in lights.iter_mut().zip(&l.lights) {
            *dst = [
                src.to_light[0],
                src.to_light[1],
                src.to_light[2],
                src.intensity,
            ];
        }
        let (sky, ground, hemi) = l.hemisphere.map_or((0.0, 0.0, 0.0), |(s, g)| (s, g, 1.0));
        let u = ViewU {
            view_proj: view.camera.view_projection().to_cols_array_2d(),
            light: [l.ambient, sky, ground, hemi],
            misc: [
                l.lights.len().min(MAX_LIGHTS) as u32,
                (l.tone_map == ToneMap::AcesFilmic) as u32,
                0,
                0,
            ],
            lights,
        };
        let ubuf = gpu.uniform("view", bytemuck::bytes_of(&u));
        let g0 = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("view"),
            layout: &p.view_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: ubuf.as_entire_binding(),
            }],
        });
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let cv = color.create_view(&Default::default());
            let dv = depth.create_view(&Default::default());
            let bg = view.background.map(|b| b as f64 / 255.0);
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("mesh"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &cv,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: bg[0],
                            g: bg[1],
                            b: bg[2],
                            a: 1.0,
                        }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &dv,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_vertex_buffer(0, vbuf.slice(..));
            pass.set_index_buffer(ibuf.slice(..), wgpu::IndexFormat::Uint32);
            pass.set_bind_group(0, &g0, &[]);
            for prim in &mesh.primitives {
                let Some(m) = mesh.materials.get(prim.material as usize) else {
                    continue;
                };
                pass.set_pipeline(if m.double_sided {
                    &p.two_sided
                } else {
                    &p.culled
                });
                pass.set_bind_group(1, &materials[prim.material as usize], &[]);
                pass.draw_indexed(
                    prim.first_index..prim.first_index + prim.index_count,
                    0,
                    0..1,
                );
            }
        }
        let row = (4 * w).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT);
        let read = gpu.readback(row as u64 * h as u64);
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &color,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &read,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row),
                    rows_per_image: Some(h),
                },
            },
            size,
        );
        gpu.submit_and_map(encoder, &[&read])?;
        {
            let data = read
                .get_mapped_range(..)
                .map_err(|e| RenderError::Gpu(e.to_string()))?;
            let mut rgb = Vec::with_capacity((w * h * 3) as usize);
            for y in 0..h as usize {
                let r = &data[y * row as usize..y * row as usize + 4 * w as usize];
                rgb.extend(r.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]));
            }
            images.push(
                RgbImage::from_raw(w, h, rgb)
                    .ok_or_else(|| RenderError::Gpu("bad readback size".into()))?,
            );
        }
        read.unmap();
    }
    Ok(images)
}
