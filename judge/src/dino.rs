//! DINOv3 image embeddings on the CPU: load a Hugging Face checkpoint from a path the user gives (the weights are
//! gated and never downloaded), preprocess as 404 does, embed (L2-normalised CLS), compare by cosine, and pick a
//! bundle's best view.

pub mod config;
pub mod model;
pub mod preprocess;
pub mod weights;

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::bundle::{View, ViewBundle};
use crate::error::{Error, Result};
use crate::image::{read_capped, ImageData, ImageLimits};
use crate::npz::Embeddings;

pub use config::DinoConfig;
pub use model::{l2_normalise, DinoOutput, DinoV3};

/// Largest checkpoint file read (ViT-L in F32 is about 1.2 GB).
const MAX_WEIGHTS_BYTES: u64 = 4 << 30;

/// A loaded DINOv3 model plus 404's preprocessing.
pub struct Embedder {
    model: DinoV3,
    device: Device,
    image_limits: ImageLimits,
    input_size: usize,
    path: PathBuf,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("path", &self.path)
            .field("hidden", &self.model.config().hidden_size)
            .finish()
    }
}

impl Embedder {
    /// Loads `model.safetensors`. The config comes from `config`, else `config.json` beside the weights, else
    /// ViT-S/16's. Names, shapes and dtypes are checked strictly before anything is built.
    pub fn load(weights: &Path, config: Option<&Path>) -> Result<Self> {
        let cfg = match config.map(Path::to_path_buf).or_else(|| {
            let beside = weights.with_file_name("config.json");
            beside.is_file().then_some(beside)
        }) {
            Some(p) => {
                let text = read_capped(&p, 1 << 20, "DINOv3 config")?;
                DinoConfig::from_json(&String::from_utf8_lossy(&text))?
            }
            None => DinoConfig::vits16(),
        };
        let bytes = read_capped(weights, MAX_WEIGHTS_BYTES, "DINOv3 weights")?;
        Self::from_bytes(&cfg, &bytes, weights)
    }

    /// Builds from checkpoint bytes (`path` only labels errors).
    pub fn from_bytes(cfg: &DinoConfig, bytes: &[u8], path: &Path) -> Result<Self> {
        cfg.validate()?;
        let weights_err = |problem: String| Error::Weights {
            path: path.to_path_buf(),
            problem,
        };
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| weights_err(format!("not safetensors: {e}")))?;
        let layout = weights::validate(&st, cfg).map_err(weights_err)?;
        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load_buffer(bytes, &device)?;
        let model = DinoV3::from_tensors(cfg, layout, tensors)?;
        Ok(Self {
            model,
            device,
            image_limits: ImageLimits::default(),
            input_size: preprocess::SIZE,
            path: path.to_path_buf(),
        })
    }

    pub fn model(&self) -> &DinoV3 {
        &self.model
    }

    /// The square input side (224 as 404 uses; tests may shrink it).
    pub fn with_input_size(mut self, size: usize) -> Self {
        self.input_size = size;
        self
    }

    /// `[B, 3, S, S]` pixel values for the images.
    pub fn pixel_values(&self, images: &[ImageData]) -> Result<Tensor> {
        let s = self.input_size;
        let mut data = Vec::with_capacity(images.len() * 3 * s * s);
        for img in images {
            let rgb = img.decode_rgb8(&self.image_limits)?;
            data.extend(preprocess::pixel_values(&rgb, s, s));
        }
        Ok(Tensor::from_vec(
            data,
            (images.len(), 3, s, s),
            &self.device,
        )?)
    }

    /// L2-normalised `pooler_output` for each image, in order (one batch).
    pub fn embed(&self, images: &[ImageData]) -> Result<Vec<Vec<f32>>> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let out = self.model.forward(&self.pixel_values(images)?)?;
        model::l2_normalise_rows(&out.pooler_output)
    }

    /// 404's `embeddings.npz` for one bundle: `prompt`, then `view_<name>` for the 8 white views.
    pub fn embed_bundle(&self, prompt: &ImageData, bundle: &ViewBundle) -> Result<Embeddings> {
        let mut images = vec![prompt.clone()];
        images.extend(View::WHITE.iter().map(|v| bundle.white(*v).clone()));
        let vecs = self.embed(&images)?;
        let mut e = Embeddings::new();
        let mut it = vecs.into_iter();
        e.insert("prompt", it.next().unwrap_or_default());
        for (view, v) in View::WHITE.iter().zip(it) {
            e.insert(format!("view_{}", view.name()), v);
        }
        Ok(e)
    }
}

/// Dot product; for L2-normalised vectors this is the cosine similarity.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `1 − cos`, in [0, 2] (404's historical DINOv3 distance).
pub fn cosine_distance(a: &[f32], b: &[f32]) -> f32 {
    1.0 - cosine_similarity(a, b)
}

/// The white view closest to the prompt (first on ties), as Stage 2A picks it.
pub fn best_view(e: &Embeddings) -> Option<(View, f32)> {
    crate::duel::pick_best_view(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_of_normalised_vectors() {
        let a = l2_normalise(vec![3.0, 4.0]);
        assert_eq!(a, vec![0.6, 0.8]);
        assert!((cosine_distance(&a, &a)).abs() < 1e-6);
        let b = l2_normalise(vec![-3.0, -4.0]);
        assert!((cosine_distance(&a, &b) - 2.0).abs() < 1e-6);
        assert_eq!(l2_normalise(vec![0.0, 0.0]), vec![0.0, 0.0]);
    }
}
