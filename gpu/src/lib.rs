//! sn17-gpu: 3D assets (3DGS PLY, SPZ including 404's zstd variant, GLB), camera rigs as data, and
//! renderers behind one trait (CPU reference, wgpu compute splats and raster meshes, CUDA splats).
//!
//! Typical use: `assets::load_path` → `rig::preset` → `render::create_renderer` →
//! `render::render_rig` → `output::write_rendered`.

pub mod assets;
pub mod camera;
pub mod compare;
pub mod error;
pub mod lighting;
pub mod limits;
pub mod output;
pub mod prepare;
pub mod render;
pub mod rig;
pub mod test_utils;

pub use assets::{load_bytes, load_path, Asset, Format, LoadOptions};
pub use error::{AssetError, RenderError};
pub use limits::Limits;
pub use render::{create_renderer, render_rig, render_rigs, Backend, Renderer, View};
pub use rig::Rig;
