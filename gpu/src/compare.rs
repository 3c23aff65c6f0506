//! Image comparison for cross-backend and golden tests: PSNR and per-pixel difference counts.

use image::RgbImage;

/// Peak signal-to-noise ratio in dB over all channels (∞ for identical images). Images of
/// different sizes compare as 0 dB.
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    if a.dimensions() != b.dimensions() {
        return 0.0;
    }
    let n = a.as_raw().len() as f64;
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum();
    if se == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / (se / n)).log10()
}

/// Summary of per-channel absolute differences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiffStats {
    pub max: u8,
    pub mean: f64,
    /// Fraction of pixels with any channel differing by more than the threshold given.
    pub frac_over: f64,
}

pub fn diff_stats(a: &RgbImage, b: &RgbImage, threshold: u8) -> DiffStats {
    if a.dimensions() != b.dimensions() {
        return DiffStats {
            max: 255,
            mean: 255.0,
            frac_over: 1.0,
        };
    }
    let (mut max, mut sum, mut over) = (0u8, 0u64, 0u64);
    for (pa, pb) in a.pixels().zip(b.pixels()) {
        let mut px_max = 0u8;
        for c in 0..3 {
            let d = pa[c].abs_diff(pb[c]);
            px_max = px_max.max(d);
            sum += d as u64;
        }
        max = max.max(px_max);
        over += (px_max > threshold) as u64;
    }
    let px = (a.width() as u64 * a.height() as u64).max(1);
    DiffStats {
        max,
        mean: sum as f64 / (px * 3) as f64,
        frac_over: over as f64 / px as f64,
    }
}
