//! The devnet's prompts and its demo generator.
//!
//! Prompt images are a coloured disc on white, the colour derived from the prompt's name. The
//! demo generator turns a prompt image into a small Gaussian-splat ball of the disc's colour,
//! of which a `1 − quality` share clashes with the prompt; it is deterministic in (repo, prompt,
//! seed), so a validator regenerating a leader's outputs gets the same files (the audit path).

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use sn17_gpu::assets::splats::Splats;
use sn17_judge::image::{ImageData, ImageLimits};

/// Side of the square prompt images.
pub const PROMPT_SIZE: u32 = 128;
/// Gaussians per generated splat.
pub const DEMO_GAUSSIANS: usize = 1200;

const SH_C0: f32 = 0.282_094_8;

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// The colour of a prompt's disc.
pub fn prompt_colour(stem: &str) -> [u8; 3] {
    let d = digest(&[b"sn17/devnet/prompt", stem.as_bytes()]);
    // Keep away from white so the disc is foreground.
    [d[0] % 200, d[1] % 200, d[2] % 200]
}

/// A prompt image: the disc on white, as PNG.
pub fn prompt_png(stem: &str) -> anyhow::Result<Vec<u8>> {
    let c = prompt_colour(stem);
    let n = PROMPT_SIZE;
    let r = n as f32 * 0.35;
    let centre = n as f32 / 2.0;
    let img = image::RgbImage::from_fn(n, n, |x, y| {
        let dx = x as f32 + 0.5 - centre;
        let dy = y as f32 + 0.5 - centre;
        if dx * dx + dy * dy <= r * r {
            image::Rgb(c)
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    Ok(sn17_gpu::output::encode_png(&img)?)
}

/// Mean colour of a prompt image's non-white pixels (white when it has none).
fn foreground_mean(png: &[u8]) -> anyhow::Result<[f32; 3]> {
    let img = ImageData::new("prompt", png.to_vec())
        .decode_rgb8(&ImageLimits::default())
        .context("decoding the prompt image")?;
    let mut sum = [0f64; 3];
    let mut n = 0u64;
    for px in img.pixels.chunks_exact(3) {
        if px.iter().all(|&v| v >= 245) {
            continue;
        }
        for (s, &v) in sum.iter_mut().zip(px) {
            *s += f64::from(v);
        }
        n += 1;
    }
    if n == 0 {
        return Ok([1.0, 1.0, 1.0]);
    }
    Ok(sum.map(|s| (s / n as f64 / 255.0) as f32))
}

/// A small deterministic PRNG (splitmix64): the generator must not depend on a crate's stream.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn signed(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// Generates the 3DGS PLY a demo miner with `quality` in [0, 1] outputs for a prompt: a ball
/// whose gaussians take the prompt's colour with probability `quality` and a clashing colour
/// (each channel shifted by half its range) otherwise, so better miners look measurably closer.
pub fn generate(
    repo: &str,
    quality: f32,
    stem: &str,
    prompt: &[u8],
    seed: u32,
) -> anyhow::Result<Vec<u8>> {
    let target = foreground_mean(prompt)?;
    let clash = target.map(|c| (c + 0.5) % 1.0);
    let q = quality.clamp(0.0, 1.0);
    let d = digest(&[repo.as_bytes(), stem.as_bytes(), &seed.to_le_bytes()]);
    let mut rng = SplitMix(u64::from_le_bytes([
        d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
    ]));
    let mut s = Splats {
        positions: Vec::with_capacity(DEMO_GAUSSIANS),
        log_scales: Vec::with_capacity(DEMO_GAUSSIANS),
        rotations: Vec::with_capacity(DEMO_GAUSSIANS),
        opacity_logits: Vec::with_capacity(DEMO_GAUSSIANS),
        sh_dc: Vec::with_capacity(DEMO_GAUSSIANS),
        sh_rest: Vec::new(),
        sh_degree: 0,
        antialiased: false,
    };
    while s.positions.len() < DEMO_GAUSSIANS {
        let p = [rng.signed(), rng.signed(), rng.signed()];
        if p.iter().map(|v| v * v).sum::<f32>() > 1.0 {
            continue;
        }
        s.positions.push(p.map(|v| v * 0.45));
        s.log_scales.push([(0.045f32).ln(); 3]);
        s.rotations.push([1.0, 0.0, 0.0, 0.0]);
        s.opacity_logits.push(6.0);
        let colour = if (rng.signed() + 1.0) / 2.0 < q {
            target
        } else {
            clash
        };
        s.sh_dc.push(colour.map(|c| (c - 0.5) / SH_C0));
    }
    Ok(sn17_gpu::assets::ply::write(&s, false))
}

/// The demo generator behind the pod API and `sn17 miner run --demo`: one repository's
/// quality, deterministic in (repo, prompt, seed).
pub struct DemoGenerator {
    pub repo: String,
    pub quality: f32,
}

impl crate::pod::server::Generator for DemoGenerator {
    fn ext(&self) -> &str {
        "ply"
    }

    fn generate(&self, stem: &str, image: &[u8], seed: u32) -> Result<Vec<u8>, String> {
        generate(&self.repo, self.quality, stem, image, seed).map_err(|e| format!("{e:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_loads_back() {
        let prompt = prompt_png("abc").expect("png");
        let a = generate("devnet/miner-1", 0.9, "abc", &prompt, 7).expect("gen");
        let b = generate("devnet/miner-1", 0.9, "abc", &prompt, 7).expect("gen");
        let c = generate("devnet/miner-2", 0.9, "abc", &prompt, 7).expect("gen");
        assert_eq!(a, b);
        assert_ne!(a, c);
        let (asset, _) =
            sn17_gpu::load_bytes(&a, &sn17_gpu::LoadOptions::default()).expect("loads");
        match asset {
            sn17_gpu::Asset::Splats(s) => assert_eq!(s.len(), DEMO_GAUSSIANS),
            other => panic!("expected splats, got {other:?}"),
        }
    }

    #[test]
    fn quality_moves_the_colour_towards_the_prompt() {
        let prompt = prompt_png("xyz").expect("png");
        let mean = foreground_mean(&prompt).expect("mean");
        let want = prompt_colour("xyz").map(|v| f32::from(v) / 255.0);
        for i in 0..3 {
            assert!((mean[i] - want[i]).abs() < 0.01, "{mean:?} vs {want:?}");
        }
    }
}
