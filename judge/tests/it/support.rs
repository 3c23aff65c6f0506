//! Test helpers: small PNGs, bundles with distinct images per side, fast retry settings.

use std::sync::Arc;
use std::time::Duration;

use sn17_judge::bundle::{View, ViewBundle};
use sn17_judge::image::ImageData;
use sn17_judge::npz::Embeddings;
use sn17_judge::vlm::{HttpVlm, RetryPolicy, VlmConfig};

/// A solid-colour 8-bit RGB PNG; `tag` is written into a text chunk so equal colours still differ in bytes.
pub fn png(w: u32, h: u32, rgb: [u8; 3], tag: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.add_text_chunk("tag".into(), tag.into()).unwrap();
    let data: Vec<u8> = rgb
        .iter()
        .copied()
        .cycle()
        .take((w * h * 3) as usize)
        .collect();
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

pub fn image(rgb: [u8; 3], tag: &str) -> ImageData {
    ImageData::new(tag, png(8, 8, rgb, tag))
}

/// A bundle whose every image is unique to `side` (so a scripted server can tell the sides apart).
pub fn bundle(side: &str, gray_rgb: [u8; 3], embeddings: Option<Embeddings>) -> ViewBundle {
    let white = View::WHITE.map(|v| image([200, 50, 50], &format!("{side}/white/{}", v.name())));
    let gray = View::GRAY.map(|v| Some(image(gray_rgb, &format!("{side}/gray/{}", v.name()))));
    ViewBundle::new(
        white,
        gray,
        image([10, 10, 10], &format!("{side}/grid")),
        embeddings,
    )
}

/// Whether a data URL is one of `side`'s images.
pub fn belongs_to(url: &str, b: &ViewBundle) -> bool {
    let u = url.as_bytes();
    View::WHITE
        .iter()
        .any(|v| b.white(*v).data_url().as_ref() == u)
        || View::GRAY
            .iter()
            .any(|v| b.gray(*v).is_some_and(|g| g.data_url().as_ref() == u))
        || b.grid().data_url().as_ref() == u
}

pub fn fast_config(base_url: &str) -> VlmConfig {
    let mut c = VlmConfig::new(base_url, "glm-4.6v-flash");
    c.transport_backoff = Duration::from_millis(5);
    c.max_transport_backoff = Duration::from_millis(20);
    c.timeout = Duration::from_secs(10);
    c
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        backoff_unit: Duration::from_millis(2),
    }
}

pub fn http_vlm(cfg: VlmConfig) -> Arc<HttpVlm> {
    Arc::new(HttpVlm::new(cfg).unwrap())
}
