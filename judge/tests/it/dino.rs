//! DINOv3 against golden fixtures made by `scripts/dinov3_fixture.py` with transformers (tiny random
//! configs, both tensor-name spellings, GELU and SwiGLU), 404's preprocessing against the HF processor, and the
//! full ViT-S/16 shape with random weights.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use sn17_judge::bundle::View;
use sn17_judge::dino::config::DinoConfig;
use sn17_judge::dino::weights::random_checkpoint;
use sn17_judge::dino::{preprocess, Embedder};
use sn17_judge::image::{ImageData, ImageLimits};

use crate::support::bundle;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dinov3")
}

fn load(path: &Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn check_fixture(name: &str) {
    let dir = fixtures().join(name);
    let e = Embedder::load(&dir.join("model.safetensors"), None).unwrap();
    let io = load(&dir.join("io.safetensors"));
    let out = e.model().forward(&io["pixel_values"]).unwrap();
    let hidden = max_abs(&out.last_hidden_state, &io["last_hidden_state"]);
    let pooled = max_abs(&out.pooler_output, &io["pooler_output"]);
    eprintln!("{name}: max abs error last_hidden_state {hidden:e}, pooler_output {pooled:e}");
    assert!(
        hidden <= 1e-4,
        "{name}: last_hidden_state max abs error {hidden}"
    );
    assert!(
        pooled <= 1e-4,
        "{name}: pooler_output max abs error {pooled}"
    );
    // The reference values are O(1) (LayerNorm output), so 1e-4 is a real constraint.
    let scale = io["last_hidden_state"]
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(scale > 0.5, "{scale}");
}

#[test]
fn tiny_gelu_model_with_published_tensor_names_matches_transformers() {
    check_fixture("tiny_gelu");
}

#[test]
fn tiny_swiglu_model_with_transformers5_tensor_names_matches_transformers() {
    check_fixture("tiny_swiglu");
}

#[test]
fn preprocessing_matches_the_hf_processor() {
    let dir = fixtures().join("preprocess");
    let expected = load(&dir.join("expected.safetensors"));
    for name in ["small_rgba", "large_rgb"] {
        let img =
            ImageData::read(&dir.join(format!("{name}.png")), &ImageLimits::default()).unwrap();
        let rgb = img.decode_rgb8(&ImageLimits::default()).unwrap();
        let full = preprocess::pixel_values(&rgb, 224, 224);
        let full = Tensor::from_vec(full, (3, 224, 224), &Device::Cpu).unwrap();
        // The fixture keeps every 7th row and column.
        let idx = Tensor::arange_step(0u32, 224, 7, &Device::Cpu).unwrap();
        let sub = full
            .index_select(&idx, 1)
            .unwrap()
            .index_select(&idx, 2)
            .unwrap();
        let err = max_abs(&sub, &expected[name]);
        eprintln!("{name}: preprocessing max abs error {err:e}");
        assert!(err <= 1e-4, "{name}: max abs error {err}");
    }
}

#[test]
fn loader_rejects_missing_extra_misshapen_and_non_float_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DinoConfig {
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        ..DinoConfig::vits16()
    };
    let good = random_checkpoint(&cfg, 1);
    let st = safetensors::SafeTensors::deserialize(&good).unwrap();
    let mut tensors: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    let write = |ts: &[(String, safetensors::Dtype, Vec<usize>, Vec<u8>)], file: &str| {
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = ts
            .iter()
            .map(|(n, d, s, b)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
                )
            })
            .collect();
        let p = dir.path().join(file);
        safetensors::serialize_to_file(views, None, &p).unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4}"#,
        )
        .unwrap();
        p
    };
    let ok = write(&tensors, "ok.safetensors");
    assert!(Embedder::load(&ok, None).is_ok());

    let err = |p: PathBuf| Embedder::load(&p, None).unwrap_err().to_string();
    let mut missing = tensors.clone();
    missing.retain(|(n, ..)| n != "layer.1.norm2.bias");
    assert!(
        err(write(&missing, "missing.safetensors")).contains("missing tensor layer.1.norm2.bias")
    );
    let mut extra = tensors.clone();
    extra.push((
        "layer.0.attention.k_proj.bias".into(),
        safetensors::Dtype::F32,
        vec![32],
        vec![0; 128],
    ));
    assert!(err(write(&extra, "extra.safetensors"))
        .contains("unexpected tensor layer.0.attention.k_proj.bias"));
    let i = tensors
        .iter()
        .position(|(n, ..)| n == "norm.weight")
        .unwrap();
    tensors[i].2 = vec![16];
    tensors[i].3.truncate(64);
    assert!(err(write(&tensors, "shape.safetensors"))
        .contains("norm.weight: shape [16], expected [32]"));
    tensors[i].2 = vec![32];
    tensors[i].1 = safetensors::Dtype::I32;
    tensors[i].3 = vec![0; 128];
    assert!(err(write(&tensors, "dtype.safetensors")).contains("norm.weight: dtype I32"));
    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"not a checkpoint").unwrap();
    assert!(err(junk).contains("not safetensors"));
}

#[test]
fn vits16_with_random_weights_has_the_documented_shapes_and_is_batch_invariant() {
    let cfg = DinoConfig::vits16();
    let bytes = random_checkpoint(&cfg, 17);
    let e = Embedder::from_bytes(&cfg, &bytes, Path::new("random-vits16")).unwrap();
    let a = ImageData::new("a", crate::support::png(64, 48, [200, 30, 30], "a"));
    let b = ImageData::new("b", crate::support::png(32, 32, [20, 30, 200], "b"));
    let pv = e.pixel_values(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(pv.dims(), [2, 3, 224, 224]);
    let out = e.model().forward(&pv).unwrap();
    assert_eq!(out.last_hidden_state.dims(), [2, 201, 384]);
    assert_eq!(out.pooler_output.dims(), [2, 384]);
    // Batch invariance: each image alone gives the same embedding as in the batch.
    let both = e.embed(&[a.clone(), b.clone()]).unwrap();
    let alone = e.embed(&[b]).unwrap();
    let diff = both[1]
        .iter()
        .zip(&alone[0])
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(diff < 1e-5, "{diff}");
    let norm: f32 = both[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
    // Non-square inputs work (RoPE normalises each axis by its own size).
    let wide = Tensor::zeros((1, 3, 224, 320), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert_eq!(
        e.model().forward(&wide).unwrap().last_hidden_state.dims(),
        [1, 5 + 14 * 20, 384]
    );
    assert!(e
        .model()
        .forward(&Tensor::zeros((1, 3, 100, 224), candle_core::DType::F32, &Device::Cpu).unwrap())
        .is_err());
}

#[test]
fn bundle_embeddings_follow_404s_npz_layout() {
    let cfg = DinoConfig {
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        ..DinoConfig::vits16()
    };
    let e = Embedder::from_bytes(&cfg, &random_checkpoint(&cfg, 3), Path::new("tiny"))
        .unwrap()
        .with_input_size(32);
    let prompt = ImageData::new("p", crate::support::png(16, 16, [200, 50, 50], "p"));
    let emb = e
        .embed_bundle(&prompt, &bundle("a", [128; 3], None))
        .unwrap();
    let keys: Vec<&str> = emb.entries().map(|(k, _)| k).collect();
    let mut want = vec!["prompt".to_string()];
    want.extend(View::WHITE.iter().map(|v| format!("view_{}", v.name())));
    assert_eq!(keys, want);
    assert!(emb.entries().all(|(_, v)| v.len() == 32));
    let (_, best) = sn17_judge::dino::best_view(&emb).unwrap();
    let prompt_vec = emb.get("prompt").unwrap();
    let max = emb
        .entries()
        .filter(|(k, _)| k.starts_with("view_"))
        .map(|(_, v)| sn17_judge::dino::cosine_similarity(v, prompt_vec))
        .fold(f32::MIN, f32::max);
    assert_eq!(best, max);
    let back = sn17_judge::npz::Embeddings::from_npz(&emb.to_npz().unwrap()).unwrap();
    assert_eq!(back, emb);
}
