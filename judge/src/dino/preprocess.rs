//! 404's DINOv3 preprocessing (the HF `DINOv3ViTImageProcessor`): RGB (alpha dropped), rescale to [0, 1], resize
//! to 224×224 with antialiased bilinear interpolation in float (PyTorch's `interpolate(..., antialias=True)`),
//! ImageNet normalisation, CHW.

use crate::image::RgbImage;

pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
pub const SIZE: usize = 224;

/// `[3, out_h, out_w]` normalised pixel values.
pub fn pixel_values(img: &RgbImage, out_h: usize, out_w: usize) -> Vec<f32> {
    let (w, h) = (img.width as usize, img.height as usize);
    let mut out = Vec::with_capacity(3 * out_h * out_w);
    let wx = weights(w, out_w);
    let wy = weights(h, out_h);
    let mut plane = vec![0f32; w * h];
    let mut horiz = vec![0f32; out_w * h];
    for c in 0..3 {
        for (i, px) in plane.iter_mut().enumerate() {
            *px = f32::from(img.pixels[i * 3 + c]) / 255.0;
        }
        // Width first, then height (the order of PyTorch's separable CPU kernel).
        for y in 0..h {
            let row = &plane[y * w..(y + 1) * w];
            for (ox, (start, ws)) in wx.iter().enumerate() {
                horiz[y * out_w + ox] = ws.iter().zip(&row[*start..]).map(|(wt, v)| wt * v).sum();
            }
        }
        let (mean, std) = (IMAGENET_MEAN[c], IMAGENET_STD[c]);
        for (start, ws) in &wy {
            for ox in 0..out_w {
                let v: f32 = ws
                    .iter()
                    .enumerate()
                    .map(|(k, wt)| wt * horiz[(start + k) * out_w + ox])
                    .sum();
                out.push((v - mean) / std);
            }
        }
    }
    out
}

/// Per output index: the first input index and the normalised triangle-filter weights (PyTorch's
/// `_compute_indices_weights_aa` for bilinear, align_corners = false).
fn weights(input: usize, output: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f64 / output as f64;
    let support = if scale >= 1.0 { scale } else { 1.0 };
    let inv = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
    (0..output)
        .map(|i| {
            let center = scale * (i as f64 + 0.5);
            // Truncation toward zero, as the C++ int64 cast does.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(input as i64) as usize;
            let mut ws: Vec<f64> = (xmin..xmax)
                .map(|j| {
                    let x = ((j as f64) - center + 0.5) * inv;
                    (1.0 - x.abs()).max(0.0)
                })
                .collect();
            let total: f64 = ws.iter().sum();
            if total != 0.0 {
                ws.iter_mut().for_each(|w| *w /= total);
            }
            (xmin, ws.into_iter().map(|w| w as f32).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_size_only_normalises() {
        let img = RgbImage {
            width: 2,
            height: 1,
            pixels: vec![0, 128, 255, 255, 0, 51],
        };
        let v = pixel_values(&img, 1, 2);
        let expect = |x: u8, c: usize| (f32::from(x) / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
        assert_eq!(
            v,
            vec![
                expect(0, 0),
                expect(255, 0),
                expect(128, 1),
                expect(0, 1),
                expect(255, 2),
                expect(51, 2)
            ]
        );
    }

    #[test]
    fn downscale_of_a_constant_is_constant_and_weights_sum_to_one() {
        for (i, o) in [(1024, 224), (97, 224), (300, 224), (224, 224)] {
            for (_, ws) in weights(i, o) {
                assert!((ws.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            }
        }
        let img = RgbImage {
            width: 50,
            height: 30,
            pixels: vec![77; 50 * 30 * 3],
        };
        let v = pixel_values(&img, 7, 9);
        let want = (77.0 / 255.0 - IMAGENET_MEAN[0]) / IMAGENET_STD[0];
        assert!(v[..63].iter().all(|x| (x - want).abs() < 1e-5));
    }
}
