//! The CUDA backend's place: its own issue adds it behind the same `Renderer` trait (cudarc,
//! runtime-loaded, so binaries still start on machines without CUDA).

use super::Renderer;
use crate::error::RenderError;

/// Always unavailable in this build.
pub fn create() -> Result<Box<dyn Renderer>, RenderError> {
    Err(RenderError::BackendUnavailable {
        backend: "cuda",
        reason: "this build has no CUDA renderer yet; use --backend wgpu or cpu".into(),
    })
}
