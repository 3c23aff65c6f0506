//! The renderer trait, backend selection at run time, and rendering a whole rig.

pub mod cpu;
pub mod cuda;
pub mod sh;
pub mod splat_math;
pub mod texture;
pub mod wgpu;

use std::fmt;
use std::str::FromStr;

use image::RgbImage;
use serde::Serialize;

use crate::assets::mesh::Mesh;
use crate::assets::splats::Splats;
use crate::assets::Asset;
use crate::camera::Camera;
use crate::error::RenderError;
use crate::lighting::Lighting;
use crate::output::compose_grid;
use crate::prepare::prepare;
use crate::rig::{GridSource, Rig, ViewSpec};

/// One image to render: a camera, the background bytes and (for meshes) its lighting.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub camera: Camera,
    pub background: [u8; 3],
    pub lighting: Lighting,
}

impl View {
    pub fn from_spec(spec: &ViewSpec, supersample: u32) -> View {
        let camera = spec.camera(supersample);
        View {
            camera,
            background: spec.background,
            lighting: spec.lighting.resolve(camera.eye),
        }
    }
}

/// Largest image side any backend renders.
pub const MAX_VIEW_SIZE: u32 = 16384;

/// Refuses views no backend can render (zero or huge sizes, degenerate cameras).
pub(crate) fn check_views(views: &[View]) -> Result<(), RenderError> {
    for v in views {
        let c = &v.camera;
        let ok = (1..=MAX_VIEW_SIZE).contains(&c.width)
            && (1..=MAX_VIEW_SIZE).contains(&c.height)
            && c.fov_y_deg > 0.0
            && c.fov_y_deg < 180.0
            && c.near > 0.0
            && c.far > c.near
            && c.eye
                .iter()
                .chain(&c.target)
                .chain(&c.up)
                .all(|x| x.is_finite());
        if !ok {
            return Err(RenderError::InvalidView(format!(
                "{}x{} px, fov {}, near {}, far {}",
                c.width, c.height, c.fov_y_deg, c.near, c.far
            )));
        }
    }
    Ok(())
}

/// Splat colour options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplatOptions {
    /// Highest SH degree evaluated (lower bands only if the asset has fewer).
    pub max_sh_degree: u8,
    /// Mip-Splatting opacity compensation; None follows the asset's antialiased flag.
    pub antialiased: Option<bool>,
}

impl Default for SplatOptions {
    fn default() -> Self {
        SplatOptions {
            max_sh_degree: 3,
            antialiased: None,
        }
    }
}

/// A rendering backend. Every method renders all `views` of one asset, so implementations can
/// upload the asset once and batch the views.
pub trait Renderer: Send + Sync {
    fn backend(&self) -> Backend;
    /// Human-readable device description (e.g. the GPU adapter).
    fn description(&self) -> String;
    fn render_splats(
        &self,
        splats: &Splats,
        views: &[View],
        opts: &SplatOptions,
    ) -> Result<Vec<RgbImage>, RenderError>;
    fn render_mesh(&self, mesh: &Mesh, views: &[View]) -> Result<Vec<RgbImage>, RenderError>;
    /// Renders several assets (each with its views). Backends that can overlap assets (CUDA
    /// streams) override this; the default renders them one after another.
    fn render_splats_many(
        &self,
        jobs: &[(&Splats, &[View])],
        opts: &SplatOptions,
    ) -> Vec<Result<Vec<RgbImage>, RenderError>> {
        jobs.iter()
            .map(|(s, v)| self.render_splats(s, v, opts))
            .collect()
    }
}

/// `--backend` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// The best available: CUDA, then a wgpu hardware adapter, then the CPU reference.
    Auto,
    Cpu,
    Wgpu,
    Cuda,
}

impl FromStr for Backend {
    type Err = RenderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Backend::Auto),
            "cpu" => Ok(Backend::Cpu),
            "wgpu" => Ok(Backend::Wgpu),
            "cuda" => Ok(Backend::Cuda),
            _ => Err(RenderError::UnknownBackend(s.to_string())),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Auto => "auto",
            Backend::Cpu => "cpu",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        })
    }
}

/// Creates a renderer. `Auto` prefers CUDA, then a wgpu adapter that is real hardware (a
/// software Vulkan like lavapipe is no faster than the CPU reference), then the CPU reference.
/// Asking for `wgpu` explicitly accepts a software adapter.
pub fn create_renderer(backend: Backend) -> Result<Box<dyn Renderer>, RenderError> {
    match backend {
        Backend::Cpu => Ok(Box::new(cpu::CpuRenderer::new())),
        Backend::Cuda => cuda::create(),
        Backend::Wgpu => Ok(Box::new(wgpu::WgpuRenderer::new(true)?)),
        Backend::Auto => {
            let cuda_err = match cuda::create() {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            // One line says why CUDA was not used and what was picked instead.
            match wgpu::WgpuRenderer::new(false) {
                Ok(r) => {
                    tracing::info!("{cuda_err}; falling back to wgpu ({})", r.description());
                    Ok(Box::new(r))
                }
                Err(e) => {
                    tracing::info!(
                        "{cuda_err}; no hardware wgpu adapter ({e}); falling back to the CPU \
                         reference renderer"
                    );
                    Ok(Box::new(cpu::CpuRenderer::new()))
                }
            }
        }
    }
}

/// A rendered rig: views in rig order with their names, and the grid.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub names: Vec<String>,
    pub views: Vec<RgbImage>,
    pub grid: RgbImage,
}

/// Renders a mesh at `ss`× the view sizes and box-filters each image down (antialiasing).
fn render_mesh_specs(
    renderer: &dyn Renderer,
    mesh: &Mesh,
    specs: &[ViewSpec],
    ss: u32,
) -> Result<Vec<RgbImage>, RenderError> {
    let views: Vec<View> = specs.iter().map(|v| View::from_spec(v, ss)).collect();
    let images = renderer.render_mesh(mesh, &views)?;
    Ok(images
        .into_iter()
        .map(|im| crate::output::downsample(&im, ss))
        .collect())
}

fn check_rig(rig: &Rig) -> Result<(), String> {
    if rig.views.is_empty() {
        return Err("the rig has no views".into());
    }
    for v in &rig.views {
        if v.size == 0
            || v.size > 8192
            || !(v.fov_deg > 0.0 && v.fov_deg < 180.0)
            || v.radius.is_nan()
            || v.radius <= 0.0
        {
            return Err(format!(
                "view {}: size {} (1-8192), fov {} (0-180), radius {} (> 0)",
                v.name, v.size, v.fov_deg, v.radius
            ));
        }
    }
    Ok(())
}

/// The grid of a rig from its rendered views (and, for `GridSource::Extra`, the extra views).
fn assemble(rig: &Rig, views: Vec<RgbImage>, extra: Vec<RgbImage>) -> Rendered {
    let grid = match &rig.grid.source {
        GridSource::Views(idx) => {
            let cells: Vec<&RgbImage> = idx.iter().filter_map(|&i| views.get(i)).collect();
            compose_grid(&cells, rig.grid.gap)
        }
        GridSource::Extra(_) => compose_grid(&extra.iter().collect::<Vec<_>>(), rig.grid.gap),
    };
    Rendered {
        names: rig.views.iter().map(|v| v.name.clone()).collect(),
        views,
        grid,
    }
}

/// Prepares `asset` as the rig says (up axis, normalisation) and renders its views and grid.
pub fn render_rig(
    renderer: &dyn Renderer,
    asset: &Asset,
    rig: &Rig,
) -> Result<Rendered, RenderError> {
    render_rigs(renderer, &[asset], rig)
        .pop()
        .unwrap_or_else(|| Err(RenderError::InvalidView("no asset".into())))
}

/// `render_rig` for several assets at once: the splat assets go to the renderer together
/// (`Renderer::render_splats_many`, which the CUDA backend overlaps on several streams), each
/// with its rig views and extra grid views in one batch; meshes render one by one. Results are
/// in input order.
pub fn render_rigs(
    renderer: &dyn Renderer,
    assets: &[&Asset],
    rig: &Rig,
) -> Vec<Result<Rendered, RenderError>> {
    if let Err(e) = check_rig(rig) {
        return assets
            .iter()
            .map(|_| Err(RenderError::InvalidView(e.clone())))
            .collect();
    }
    let prepared: Vec<Asset> = assets
        .iter()
        .map(|a| {
            let mut a = (*a).clone();
            prepare(&mut a, rig.up, rig.normalization);
            a
        })
        .collect();
    let extra_specs: &[ViewSpec] = match &rig.grid.source {
        GridSource::Extra(specs) => specs,
        GridSource::Views(_) => &[],
    };
    let n_main = rig.views.len();
    let all_specs: Vec<ViewSpec> = rig.views.iter().chain(extra_specs).cloned().collect();
    let splat_views: Vec<View> = all_specs.iter().map(|v| View::from_spec(v, 1)).collect();
    let opts = SplatOptions {
        max_sh_degree: rig.max_sh_degree,
        antialiased: None,
    };
    let jobs: Vec<(&Splats, &[View])> = prepared
        .iter()
        .filter_map(|a| match a {
            Asset::Splats(s) => Some((s, splat_views.as_slice())),
            Asset::Mesh(_) => None,
        })
        .collect();
    let mut splat_results = renderer.render_splats_many(&jobs, &opts).into_iter();
    prepared
        .iter()
        .map(|a| match a {
            Asset::Splats(_) => {
                let mut images = splat_results.next().unwrap_or_else(|| {
                    Err(RenderError::Gpu(
                        "the renderer returned too few results".into(),
                    ))
                })?;
                if images.len() != splat_views.len() {
                    return Err(RenderError::Gpu(format!(
                        "{} images for {} views",
                        images.len(),
                        splat_views.len()
                    )));
                }
                let extra = images.split_off(n_main);
                Ok(assemble(rig, images, extra))
            }
            Asset::Mesh(m) => {
                // One call for the rig's views and the grid's own (one upload of the mesh).
                let ss = rig.mesh_supersample.max(1);
                let mut views = render_mesh_specs(renderer, m, &all_specs, ss)?;
                let extra = views.split_off(n_main);
                Ok(assemble(rig, views, extra))
            }
        })
        .collect()
}
