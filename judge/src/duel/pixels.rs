//! Stage 3's gate: foreground statistics of the two gray `front_left` renders, pooled. It fires on pale, grayish
//! foregrounds — models that blend into a white background and so looked fine to Stage 1.

pub const BACKGROUND: [i32; 3] = [128, 128, 128];
pub const BACKGROUND_TOLERANCE: i32 = 18;
pub const SAMPLE_STEP: usize = 4;
pub const PALE_LUMA_MIN: f64 = 175.0;
pub const PALE_SAT_MAX: f64 = 0.35;
pub const GRAYISH_SAT_MAX: f64 = 0.28;
pub const PALE_FRACTION_MIN: f64 = 0.10;
pub const GRAYISH_FRACTION_MIN: f64 = 0.60;

/// Pixels of one decoded image: `channels` is 3 (RGB) or 4 (RGBA, alpha ignored).
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ForegroundStats {
    pub foreground_samples: u64,
    /// Fractions of the foreground samples.
    pub pale_fraction: f64,
    pub grayish_fraction: f64,
    pub mean_luma: f64,
}

impl ForegroundStats {
    /// 404's `_white_unsafe`.
    pub fn gate_fires(&self) -> bool {
        self.pale_fraction >= PALE_FRACTION_MIN && self.grayish_fraction >= GRAYISH_FRACTION_MIN
    }
}

/// Samples every 4th pixel in x and y of every image, skipping background (within ±18 of mid-gray on every
/// channel). Saturation is (max−min)/max, luma is Rec. 709.
pub fn foreground_stats(images: &[Pixels<'_>]) -> ForegroundStats {
    let (mut fg, mut pale, mut grayish) = (0u64, 0u64, 0u64);
    let mut luma_sum = 0.0f64;
    for img in images {
        let stride = img.width * img.channels;
        for y in (0..img.height).step_by(SAMPLE_STEP) {
            let Some(row) = img.data.get(y * stride..(y + 1) * stride) else {
                break;
            };
            for x in (0..img.width).step_by(SAMPLE_STEP) {
                let px = &row[x * img.channels..x * img.channels + 3];
                let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
                let dist = (r - BACKGROUND[0])
                    .abs()
                    .max((g - BACKGROUND[1]).abs())
                    .max((b - BACKGROUND[2]).abs());
                if dist <= BACKGROUND_TOLERANCE {
                    continue;
                }
                fg += 1;
                let max = r.max(g).max(b);
                let min = r.min(g).min(b);
                let sat = if max == 0 {
                    0.0
                } else {
                    f64::from(max - min) / f64::from(max)
                };
                let luma = 0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b);
                luma_sum += luma;
                if sat < GRAYISH_SAT_MAX {
                    grayish += 1;
                }
                if luma > PALE_LUMA_MIN && sat < PALE_SAT_MAX {
                    pale += 1;
                }
            }
        }
    }
    if fg == 0 {
        return ForegroundStats::default();
    }
    let n = fg as f64;
    ForegroundStats {
        foreground_samples: fg,
        pale_fraction: pale as f64 / n,
        grayish_fraction: grayish as f64 / n,
        mean_luma: luma_sum / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: usize, h: usize, channels: usize, fill: &[u8]) -> Vec<u8> {
        fill.iter()
            .copied()
            .cycle()
            .take(w * h * channels)
            .collect()
    }

    #[test]
    fn background_only_never_fires() {
        let data = solid(16, 16, 3, &[140, 120, 128]);
        let s = foreground_stats(&[Pixels {
            width: 16,
            height: 16,
            channels: 3,
            data: &data,
        }]);
        assert_eq!(s.foreground_samples, 0);
        assert!(!s.gate_fires());
    }

    #[test]
    fn pale_gray_foreground_fires_and_colourful_does_not() {
        let pale = solid(16, 16, 4, &[230, 230, 225, 255]);
        let s = foreground_stats(&[Pixels {
            width: 16,
            height: 16,
            channels: 4,
            data: &pale,
        }]);
        assert_eq!(s.foreground_samples, 16);
        assert!(s.gate_fires(), "{s:?}");
        let red = solid(16, 16, 3, &[220, 30, 30]);
        let s = foreground_stats(&[Pixels {
            width: 16,
            height: 16,
            channels: 3,
            data: &red,
        }]);
        assert!(!s.gate_fires(), "{s:?}");
    }

    #[test]
    fn images_are_pooled_and_sampled_every_fourth_pixel() {
        // Image 1: pale gray; image 2: dark gray (grayish but not pale). 16 + 16 samples, 50% pale.
        let a = solid(13, 13, 3, &[200, 200, 200]);
        let b = solid(16, 16, 3, &[40, 40, 40]);
        let s = foreground_stats(&[
            Pixels {
                width: 13,
                height: 13,
                channels: 3,
                data: &a,
            },
            Pixels {
                width: 16,
                height: 16,
                channels: 3,
                data: &b,
            },
        ]);
        assert_eq!(s.foreground_samples, 16 + 16);
        assert_eq!(s.pale_fraction, 0.5);
        assert_eq!(s.grayish_fraction, 1.0);
        assert!(s.gate_fires());
    }
}
