//! Judge benchmarks (ids as in BENCHMARKS.md):
//! - `duel/overhead/{s1,full}`: one duel against an in-process VLM that answers instantly, so the time is the
//!   judge's own work (request bodies with 1024² PNG data URLs, parsing, stage logic, the S3 pixel gate).
//! - `dino/vits16/...`: DINOv3 ViT-S/16 (random weights of the real shape) on the CPU: one bundle (9 images)
//!   per iteration, and 404's preprocessing of a 1024² PNG.
//! - `throughput`: duels per second against the scripted HTTP server answering after a fixed 500 ms, at 1, 8
//!   and 32 duels in flight (printed, not a criterion group; runs with no filter, a filter naming it, or
//!   SN17_BENCH_THROUGHPUT=1; skipped with SN17_BENCH_SKIP_THROUGHPUT=1).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::hint::black_box;

use criterion::Criterion;
use futures::future::BoxFuture;
use serde_json::json;
use sn17_judge::bundle::{View, ViewBundle};
use sn17_judge::dino::config::DinoConfig;
use sn17_judge::dino::weights::random_checkpoint;
use sn17_judge::dino::{preprocess, Embedder};
use sn17_judge::duel::{DuelInput, DuelJudge, MultiStageJudge, Prompt};
use sn17_judge::image::{ImageData, ImageLimits};
use sn17_judge::npz::Embeddings;
use sn17_judge::test_utils::judge_script::{answer, Opinion};
use sn17_judge::test_utils::ScriptedServer;
use sn17_judge::vlm::request::encode_chunks;
use sn17_judge::vlm::{
    Call, Completion, HttpVlm, Metrics, Part, RetryPolicy, Vlm, VlmConfig, VlmError,
};

/// A 1024² render-like PNG: a shaded disc with mild noise on a flat background (~0.5–1 MB, like 404's views).
fn render_png(seed: u32, background: [u8; 3], tint: [u8; 3]) -> Vec<u8> {
    let n = 1024u32;
    let mut data = Vec::with_capacity((n * n * 3) as usize);
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    for y in 0..n {
        for x in 0..n {
            let (dx, dy) = (x as f32 - 512.0, y as f32 - 512.0);
            let r2 = (dx * dx + dy * dy) / (380.0 * 380.0);
            if r2 > 1.0 {
                data.extend_from_slice(&background);
            } else {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let shade = (1.0 - r2).sqrt() * 0.7 + 0.3;
                let noise = (s % 5) as f32 - 2.0;
                for c in tint {
                    data.push((c as f32 * shade + noise).clamp(0.0, 255.0) as u8);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, n, n);
    enc.set_color(png::ColorType::Rgb);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

fn side(tag: u32, with_embeddings: bool) -> ViewBundle {
    let white = View::WHITE.map(|v| {
        ImageData::new(
            format!("{tag}/{}", v.name()),
            render_png(tag * 100 + v as u32, [255; 3], [180, 60, 40]),
        )
    });
    // Pale, grayish gray renders make Stage 3's gate fire, so the full path runs every stage.
    let gray = View::GRAY.map(|v| {
        Some(ImageData::new(
            format!("{tag}/g/{}", v.name()),
            render_png(tag * 200 + v as u32, [128; 3], [230, 230, 225]),
        ))
    });
    let grid = ImageData::new(
        format!("{tag}/grid"),
        render_png(tag * 300, [0; 3], [90, 90, 200]),
    );
    let embeddings = with_embeddings.then(|| {
        let mut e = Embeddings::new();
        e.insert("prompt", vec![1.0 / 384f32.sqrt(); 384]);
        for (i, v) in View::WHITE.iter().enumerate() {
            e.insert(
                format!("view_{}", v.name()),
                vec![(i as f32 + 1.0) / 384.0; 384],
            );
        }
        e
    });
    ViewBundle::new(white, gray, grid, embeddings)
}

/// Answers at once, after building the real request body chunks (the judge's cost), from side-aware opinions.
struct InstantVlm {
    metrics: Arc<Metrics>,
    a_images: HashSet<usize>,
    opinion: Opinion,
}

impl InstantVlm {
    fn is_a(&self, p: &Part) -> bool {
        matches!(p, Part::Image(img) if self.a_images.contains(&(img.bytes().as_ptr() as usize)))
    }
}

impl Vlm for InstantVlm {
    fn complete<'a>(&'a self, call: &'a Call<'a>) -> BoxFuture<'a, Result<Completion, VlmError>> {
        Box::pin(async move {
            black_box(encode_chunks("glm-4.6v-flash", call));
            let o = &self.opinion;
            let imgs: Vec<&Part> = call
                .parts
                .iter()
                .filter(|p| matches!(p, Part::Image(_)))
                .collect();
            let pen = |p: &Part| {
                if self.is_a(p) {
                    o.penalty_a
                } else {
                    o.penalty_b
                }
            };
            let v = match call.label {
                "s2cl_decompose" => json!({"main_object": "object", "features": (0..5)
                    .map(|i| json!({"description": format!("feature {i}"), "category": "shape"})).collect::<Vec<_>>()}),
                "s2cl_verify" => json!({"checks": (0..5)
                    .map(|i| json!({"feature": format!("feature {i}"), "match": "yes", "note": ""})).collect::<Vec<_>>(),
                    "main_object_correct": true}),
                "s4_per_angle" => json!({"verdict": "ok", "reason": "consistent"}),
                "explain" => json!({"issues": "none"}),
                "s3_gray_ab" | "s3_gray_ba" => {
                    let p1 = if self.is_a(imgs[1]) { 2 } else { 7 };
                    json!({"penalty_1": p1, "penalty_2": 9 - p1, "issues": ""})
                }
                _ => json!({"penalty_1": pen(imgs[1]), "penalty_2": pen(imgs[2]), "issues": "x"}),
            };
            Ok(Completion {
                content: Some(v.to_string()),
                finish_reason: Some("stop".into()),
                prompt_tokens: Some(4000),
                completion_tokens: Some(40),
            })
        })
    }

    fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    fn model(&self) -> &str {
        "instant"
    }
}

fn bench_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (a, b) = (side(1, true), side(2, true));
    let prompt = Prompt::Image(ImageData::new(
        "prompt",
        render_png(7, [255; 3], [200, 50, 50]),
    ));
    let sizes: usize = View::WHITE
        .iter()
        .map(|v| a.white(*v).bytes().len())
        .sum::<usize>()
        / 8;
    eprintln!("bench images: mean white view PNG {} KiB", sizes / 1024);
    let a_images: HashSet<usize> = View::WHITE
        .iter()
        .map(|v| a.white(*v).bytes().as_ptr() as usize)
        .chain(
            View::GRAY
                .iter()
                .map(|v| a.gray(*v).unwrap().bytes().as_ptr() as usize),
        )
        .chain([a.grid().bytes().as_ptr() as usize])
        .collect();
    let mut group = c.benchmark_group("duel/overhead");
    group.sample_size(30);
    for (name, opinion) in [
        (
            "s1",
            Opinion {
                penalty_a: 2,
                penalty_b: 7,
                ..Default::default()
            },
        ),
        ("full", Opinion::default()),
    ] {
        let vlm = Arc::new(InstantVlm {
            metrics: Arc::new(Metrics::default()),
            a_images: a_images.clone(),
            opinion,
        });
        let judge = MultiStageJudge::new(vlm.clone()).with_retry(RetryPolicy {
            backoff_unit: Duration::ZERO,
        });
        // Data URLs are cached per image after the first duel; a validator sees each image in one duel, so the
        // base64 encoding is measured by fresh images in `full_cold` below.
        group.bench_function(name, |bch| {
            bch.iter(|| {
                let out = rt.block_on(judge.judge(DuelInput {
                    prompt: &prompt,
                    left: Some(&a),
                    right: Some(&b),
                    seed: 7,
                }));
                black_box(out.unwrap())
            })
        });
        let calls = vlm.metrics().snapshot().asks;
        eprintln!("duel/overhead/{name}: {calls} questions asked in total");
    }
    for (name, opinion) in [
        (
            "s1_cold",
            Opinion {
                penalty_a: 2,
                penalty_b: 7,
                ..Default::default()
            },
        ),
        ("full_cold", Opinion::default()),
    ] {
        group.bench_function(name, |bch| {
            bch.iter_batched(
                || (side(1, true), side(2, true)),
                |(a, b)| {
                    let vlm = Arc::new(InstantVlm {
                        metrics: Arc::new(Metrics::default()),
                        a_images: View::WHITE
                            .iter()
                            .map(|v| a.white(*v).bytes().as_ptr() as usize)
                            .chain(
                                View::GRAY
                                    .iter()
                                    .map(|v| a.gray(*v).unwrap().bytes().as_ptr() as usize),
                            )
                            .chain([a.grid().bytes().as_ptr() as usize])
                            .collect(),
                        opinion: opinion.clone(),
                    });
                    let judge = MultiStageJudge::new(vlm).with_retry(RetryPolicy {
                        backoff_unit: Duration::ZERO,
                    });
                    let out = rt.block_on(judge.judge(DuelInput {
                        prompt: &prompt,
                        left: Some(&a),
                        right: Some(&b),
                        seed: 7,
                    }));
                    black_box(out.unwrap())
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn bench_dino(c: &mut Criterion) {
    let cfg = DinoConfig::vits16();
    let e = Embedder::from_bytes(
        &cfg,
        &random_checkpoint(&cfg, 1),
        std::path::Path::new("random-vits16"),
    )
    .unwrap();
    let images: Vec<ImageData> = (0..9)
        .map(|i| ImageData::new(format!("{i}"), render_png(i, [255; 3], [120, 160, 60])))
        .collect();
    let pv = e.pixel_values(&images).unwrap();
    let mut group = c.benchmark_group("dino/vits16");
    group.sample_size(10);
    group.bench_function("forward_batch9_224", |b| {
        b.iter(|| black_box(e.model().forward(&pv).unwrap().pooler_output))
    });
    let one = e.pixel_values(&images[..1]).unwrap();
    group.bench_function("forward_batch1_224", |b| {
        b.iter(|| black_box(e.model().forward(&one).unwrap().pooler_output))
    });
    let limits = ImageLimits::default();
    group.bench_function("preprocess_1024_png", |b| {
        b.iter(|| {
            let rgb = images[0].decode_rgb8(&limits).unwrap();
            black_box(preprocess::pixel_values(&rgb, 224, 224))
        })
    });
    group.finish();
}

/// Duels/s at `inflight` concurrent duels against the scripted server with a fixed latency.
fn throughput() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Small views (64² PNGs) keep the scripted server's own JSON parsing out of the measurement.
        let mk = |tag: &str| {
            let img = |name: String, rgb: [u8; 3]| {
                let mut out = Vec::new();
                let mut enc = png::Encoder::new(&mut out, 64, 64);
                enc.set_color(png::ColorType::Rgb);
                enc.add_text_chunk("t".into(), name.clone()).unwrap();
                let data: Vec<u8> = rgb.iter().copied().cycle().take(64 * 64 * 3).collect();
                enc.write_header().unwrap().write_image_data(&data).unwrap();
                ImageData::new(name, out)
            };
            ViewBundle::new(
                View::WHITE.map(|v| img(format!("{tag}/{}", v.name()), [200, 60, 40])),
                View::GRAY.map(|v| Some(img(format!("{tag}/g/{}", v.name()), [128, 128, 128]))),
                img(format!("{tag}/grid"), [0, 0, 0]),
                None,
            )
        };
        let (a, b) = (mk("a"), mk("b"));
        let prompt = Prompt::Image(ImageData::new("prompt", render_png(3, [255; 3], [10, 10, 10])));
        for (path, opinion) in [
            ("s1", Opinion { penalty_a: 2, penalty_b: 7, ..Default::default() }),
            ("full", Opinion::default()),
        ] {
            let a2 = a.clone();
            let server = ScriptedServer::start(move |req| {
                let is_a = |u: &str| {
                    View::WHITE.iter().any(|v| a2.white(*v).data_url().as_ref() == u.as_bytes())
                        || a2.grid().data_url().as_ref() == u.as_bytes()
                };
                answer(req, is_a, &opinion).delayed(Duration::from_millis(500))
            })
            .await
            .unwrap();
            for inflight in [1usize, 8, 32] {
                let mut cfg = VlmConfig::new(server.base_url(), "glm-4.6v-flash");
                cfg.max_concurrency = 1024;
                let judge = Arc::new(MultiStageJudge::new(Arc::new(HttpVlm::new(cfg).unwrap())));
                let duels = (inflight * 3).max(6);
                let started = Instant::now();
                let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let workers = (0..inflight).map(|_| {
                    let (judge, next, prompt, a, b) = (judge.clone(), next.clone(), prompt.clone(), a.clone(), b.clone());
                    async move {
                        while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < duels {
                            let input = DuelInput { prompt: &prompt, left: Some(&a), right: Some(&b), seed: 1 };
                            black_box(judge.judge(input).await.unwrap());
                        }
                    }
                });
                futures::future::join_all(workers).await;
                let secs = started.elapsed().as_secs_f64();
                let rounds = if path == "s1" { 1.0 } else { 3.0 };
                let ideal = inflight as f64 / (0.5 * rounds);
                println!(
                    "throughput/{path}/inflight_{inflight}: {duels} duels in {secs:.2} s = {:.2} duels/s (model-bound ideal {ideal:.2})",
                    duels as f64 / secs
                );
            }
        }
    });
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut c = Criterion::default().configure_from_args();
    bench_overhead(&mut c);
    bench_dino(&mut c);
    c.final_summary();
    let wants_throughput = std::env::var_os("SN17_BENCH_THROUGHPUT").is_some()
        || filter
            .as_deref()
            .is_none_or(|f| "throughput".contains(f) || f.contains("throughput"));
    if wants_throughput && std::env::var_os("SN17_BENCH_SKIP_THROUGHPUT").is_none() {
        throughput();
    }
}
