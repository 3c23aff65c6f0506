//! DINOv3 ViT hyper-parameters under Hugging Face's `config.json` names (`DINOv3ViTConfig`), defaulting to
//! ViT-S/16 (`facebook/dinov3-vits16-pretrain-lvd1689m`).

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct DinoConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_register_tokens: usize,
    pub patch_size: usize,
    pub num_channels: usize,
    pub image_size: usize,
    pub layer_norm_eps: f64,
    pub rope_theta: f64,
    pub query_bias: bool,
    pub key_bias: bool,
    pub value_bias: bool,
    pub proj_bias: bool,
    pub mlp_bias: bool,
    pub use_gated_mlp: bool,
    /// `gelu` (exact, erf form) or `silu`.
    pub hidden_act: String,
}

impl Default for DinoConfig {
    fn default() -> Self {
        Self::vits16()
    }
}

/// The activations the model supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    GeluErf,
    Silu,
}

impl DinoConfig {
    /// ViT-S/16: 384-d, 12 layers, 6 heads, MLP 1536, 4 registers, RoPE base 100, LayerNorm eps 1e-5.
    pub fn vits16() -> Self {
        Self {
            hidden_size: 384,
            intermediate_size: 1536,
            num_hidden_layers: 12,
            num_attention_heads: 6,
            num_register_tokens: 4,
            patch_size: 16,
            num_channels: 3,
            image_size: 224,
            layer_norm_eps: 1e-5,
            rope_theta: 100.0,
            query_bias: true,
            key_bias: false,
            value_bias: true,
            proj_bias: true,
            mlp_bias: true,
            use_gated_mlp: false,
            hidden_act: "gelu".into(),
        }
    }

    pub fn from_json(text: &str) -> Result<Self> {
        let cfg: Self = serde_json::from_str(text).map_err(|e| Error::DinoConfig(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads.max(1)
    }

    pub fn activation(&self) -> Result<Activation> {
        match self.hidden_act.as_str() {
            "gelu" => Ok(Activation::GeluErf),
            "silu" | "swish" => Ok(Activation::Silu),
            other => Err(Error::DinoConfig(format!(
                "unsupported hidden_act {other:?} (gelu or silu)"
            ))),
        }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::DinoConfig(m));
        if self.hidden_size == 0
            || self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return bad(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !self.head_dim().is_multiple_of(4) {
            return bad(format!(
                "head dim {} is not a multiple of 4 (axial RoPE)",
                self.head_dim()
            ));
        }
        if self.patch_size == 0
            || self.num_channels == 0
            || self.intermediate_size == 0
            || self.num_hidden_layers == 0
        {
            return bad("patch_size, num_channels, intermediate_size and num_hidden_layers must be positive".into());
        }
        if self.hidden_size > 8192
            || self.num_hidden_layers > 64
            || self.intermediate_size > 65536
            || self.patch_size > 64
        {
            return bad("config is larger than any DINOv3 ViT".into());
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.rope_theta) || !positive(self.layer_norm_eps) {
            return bad("rope_theta and layer_norm_eps must be positive".into());
        }
        self.activation().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hf_config_and_keeps_defaults() {
        let c = DinoConfig::from_json(
            r#"{"hidden_size": 32, "num_attention_heads": 4, "num_hidden_layers": 2,
            "intermediate_size": 64, "model_type": "dinov3_vit", "layerscale_value": 1.0}"#,
        )
        .unwrap();
        assert_eq!(
            (c.hidden_size, c.head_dim(), c.num_register_tokens),
            (32, 8, 4)
        );
        assert_eq!(c.activation().unwrap(), Activation::GeluErf);
        assert!(DinoConfig::from_json(r#"{"hidden_size": 30, "num_attention_heads": 4}"#).is_err());
        assert!(DinoConfig::from_json(r#"{"hidden_act": "relu"}"#).is_err());
        assert_eq!(DinoConfig::vits16().head_dim(), 64);
    }
}
