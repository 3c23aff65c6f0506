//! The CPU reference renderer (rayon): the oracle every other backend is tested against, and the
//! fallback on machines with neither CUDA nor a GPU.

pub mod mesh;
pub mod splat;

use image::RgbImage;

use super::{Backend, Renderer, SplatOptions, View};
use crate::assets::mesh::Mesh;
use crate::assets::splats::Splats;
use crate::error::RenderError;

#[derive(Debug, Default, Clone, Copy)]
pub struct CpuRenderer;

impl CpuRenderer {
    pub fn new() -> CpuRenderer {
        CpuRenderer
    }
}

impl Renderer for CpuRenderer {
    fn backend(&self) -> Backend {
        Backend::Cpu
    }

    fn description(&self) -> String {
        format!("CPU reference ({} threads)", rayon::current_num_threads())
    }

    fn render_splats(
        &self,
        splats: &Splats,
        views: &[View],
        opts: &SplatOptions,
    ) -> Result<Vec<RgbImage>, RenderError> {
        super::check_views(views)?;
        if !splats.is_consistent() {
            return Err(RenderError::InvalidView("inconsistent splat arrays".into()));
        }
        let prepared = splat::Prepared::new(splats, opts);
        views
            .iter()
            .map(|v| Ok(splat::render_view(&prepared, v)))
            .collect()
    }

    fn render_mesh(&self, mesh: &Mesh, views: &[View]) -> Result<Vec<RgbImage>, RenderError> {
        super::check_views(views)?;
        views
            .iter()
            .map(|v| Ok(mesh::render_view(mesh, v)))
            .collect()
    }
}
