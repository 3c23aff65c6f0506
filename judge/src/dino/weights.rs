//! The checkpoint layout: the exact Hugging Face tensor names and shapes a config implies, strict validation of
//! a safetensors file against them (missing, extra, wrong shape, wrong dtype), and random checkpoints for tests
//! and benchmarks.

use std::collections::BTreeMap;

use safetensors::{Dtype, SafeTensors};

use super::config::DinoConfig;

/// How the blocks are spelled: `layer.N.*` in the published checkpoints (converted with transformers 4.56),
/// `model.layer.N.*` as transformers 5 saves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockPrefix {
    Layer,
    ModelLayer,
}

impl BlockPrefix {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockPrefix::Layer => "layer",
            BlockPrefix::ModelLayer => "model.layer",
        }
    }
}

/// Names that may be present or absent: the training-only mask token.
const OPTIONAL: [&str; 1] = ["embeddings.mask_token"];

/// Every required tensor with its shape, for one block spelling and patch-embedding spelling.
pub fn expected_tensors(
    cfg: &DinoConfig,
    prefix: BlockPrefix,
    projection: bool,
) -> BTreeMap<String, Vec<usize>> {
    let (d, i, c, p) = (
        cfg.hidden_size,
        cfg.intermediate_size,
        cfg.num_channels,
        cfg.patch_size,
    );
    let mut m = BTreeMap::new();
    let mut put = |name: String, shape: Vec<usize>| {
        m.insert(name, shape);
    };
    put("embeddings.cls_token".into(), vec![1, 1, d]);
    if cfg.num_register_tokens > 0 {
        put(
            "embeddings.register_tokens".into(),
            vec![1, cfg.num_register_tokens, d],
        );
    }
    let pe = if projection {
        "embeddings.patch_embeddings.projection"
    } else {
        "embeddings.patch_embeddings"
    };
    put(format!("{pe}.weight"), vec![d, c, p, p]);
    put(format!("{pe}.bias"), vec![d]);
    for l in 0..cfg.num_hidden_layers {
        let b = format!("{}.{l}", prefix.as_str());
        for norm in ["norm1", "norm2"] {
            put(format!("{b}.{norm}.weight"), vec![d]);
            put(format!("{b}.{norm}.bias"), vec![d]);
        }
        for (proj, bias) in [
            ("q_proj", cfg.query_bias),
            ("k_proj", cfg.key_bias),
            ("v_proj", cfg.value_bias),
            ("o_proj", cfg.proj_bias),
        ] {
            put(format!("{b}.attention.{proj}.weight"), vec![d, d]);
            if bias {
                put(format!("{b}.attention.{proj}.bias"), vec![d]);
            }
        }
        put(format!("{b}.layer_scale1.lambda1"), vec![d]);
        put(format!("{b}.layer_scale2.lambda1"), vec![d]);
        let mut mlp = vec![("up_proj", vec![i, d], i), ("down_proj", vec![d, i], d)];
        if cfg.use_gated_mlp {
            mlp.push(("gate_proj", vec![i, d], i));
        }
        for (name, shape, out) in mlp {
            put(format!("{b}.mlp.{name}.weight"), shape);
            if cfg.mlp_bias {
                put(format!("{b}.mlp.{name}.bias"), vec![out]);
            }
        }
    }
    put("norm.weight".into(), vec![d]);
    put("norm.bias".into(), vec![d]);
    m
}

/// The layout a checkpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub prefix: BlockPrefix,
    pub projection: bool,
}

/// Checks names, shapes and dtypes (F32, F16, BF16) against the config; returns the layout or every problem
/// found, one per line.
pub fn validate(st: &SafeTensors<'_>, cfg: &DinoConfig) -> Result<Layout, String> {
    let names: Vec<String> = st.names().into_iter().map(str::to_string).collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    let layout = Layout {
        prefix: if has("layer.0.norm1.weight") {
            BlockPrefix::Layer
        } else {
            BlockPrefix::ModelLayer
        },
        projection: has("embeddings.patch_embeddings.projection.weight"),
    };
    let expected = expected_tensors(cfg, layout.prefix, layout.projection);
    let mut problems = Vec::new();
    for (name, shape) in &expected {
        match st.tensor(name) {
            Err(_) => problems.push(format!("missing tensor {name}")),
            Ok(t) => {
                if t.shape() != shape.as_slice() {
                    problems.push(format!("{name}: shape {:?}, expected {shape:?}", t.shape()));
                }
                if !matches!(t.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16) {
                    problems.push(format!(
                        "{name}: dtype {:?} (F32, F16 or BF16 accepted)",
                        t.dtype()
                    ));
                }
            }
        }
    }
    let mut extra: Vec<&String> = names
        .iter()
        .filter(|n| !expected.contains_key(*n) && !OPTIONAL.contains(&n.as_str()))
        .collect();
    extra.sort();
    for n in extra.iter().take(10) {
        problems.push(format!("unexpected tensor {n}"));
    }
    if extra.len() > 10 {
        problems.push(format!(
            "... and {} more unexpected tensors",
            extra.len() - 10
        ));
    }
    if problems.is_empty() {
        Ok(layout)
    } else {
        Err(problems.join("\n"))
    }
}

/// A safetensors checkpoint with random F32 weights of the config's shapes (HF names, `layer.N` spelling):
/// weights ~ U(−0.05, 0.05), norm weights near 1, LayerScale near 0.1. Deterministic in `seed`.
pub fn random_checkpoint(cfg: &DinoConfig, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64(seed);
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> =
        expected_tensors(cfg, BlockPrefix::Layer, false)
            .into_iter()
            .map(|(name, shape)| {
                let n: usize = shape.iter().product();
                let (center, spread) = if name.contains("norm") && name.ends_with("weight") {
                    (1.0, 0.1)
                } else if name.contains("lambda1") {
                    (0.1, 0.05)
                } else {
                    (0.0, 0.05)
                };
                let bytes = (0..n)
                    .flat_map(|_| (center + spread * (2.0 * rng.next_f32() - 1.0)).to_le_bytes())
                    .collect();
                (name, shape, bytes)
            })
            .collect();
    let views: Vec<(String, RawTensor<'_>)> = tensors
        .iter()
        .map(|(n, s, b)| (n.clone(), RawTensor { shape: s, data: b }))
        .collect();
    // Serialising in-memory buffers whose sizes match their shapes cannot fail.
    safetensors::serialize(views, None).unwrap_or_default()
}

struct RawTensor<'a> {
    shape: &'a [usize],
    data: &'a [u8],
}

impl safetensors::View for RawTensor<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// A small deterministic generator for test weights (not for anything secret).
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vits16_has_the_documented_211_tensors() {
        // 12 × 17 per block + cls, registers, patch weight and bias + final norm (mask token optional).
        let m = expected_tensors(&DinoConfig::vits16(), BlockPrefix::Layer, false);
        assert_eq!(m.len(), 12 * 17 + 4 + 2);
        assert_eq!(m["layer.11.mlp.up_proj.weight"], vec![1536, 384]);
        assert!(!m.contains_key("layer.0.attention.k_proj.bias"));
    }

    #[test]
    fn random_checkpoint_validates_and_corruptions_are_named() {
        let cfg = DinoConfig {
            hidden_size: 16,
            intermediate_size: 32,
            num_hidden_layers: 1,
            num_attention_heads: 2,
            ..DinoConfig::vits16()
        };
        let bytes = random_checkpoint(&cfg, 7);
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(
            validate(&st, &cfg),
            Ok(Layout {
                prefix: BlockPrefix::Layer,
                projection: false
            })
        );
        let bigger = DinoConfig {
            intermediate_size: 48,
            ..cfg.clone()
        };
        let err = validate(&st, &bigger).unwrap_err();
        assert!(
            err.contains("layer.0.mlp.up_proj.weight: shape [32, 16], expected [48, 16]"),
            "{err}"
        );
        let deeper = DinoConfig {
            num_hidden_layers: 2,
            ..cfg.clone()
        };
        assert!(validate(&st, &deeper)
            .unwrap_err()
            .contains("missing tensor layer.1.norm1.weight"));
        let no_k_bias_expected = DinoConfig {
            key_bias: true,
            ..cfg
        };
        assert!(validate(&st, &no_k_bias_expected)
            .unwrap_err()
            .contains("missing tensor layer.0.attention.k_proj.bias"));
    }
}
