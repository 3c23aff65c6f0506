//! Images as the judge handles them: encoded bytes shared between calls (with a cached base64 data URL for the
//! VLM), size-limited reading from disk, and decoding to 8-bit RGB.

use std::fmt;
use std::io::Read as _;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use bytes::Bytes;

use crate::error::{Error, Result};

/// Caps applied to every image the judge reads (miner renders are untrusted input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest encoded file accepted.
    pub max_bytes: u64,
    /// Largest decoded width × height accepted.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        // 404's views are 1024² PNGs (typically well under 4 MiB); leave generous headroom.
        Self {
            max_bytes: 32 << 20,
            max_pixels: 8192 * 8192,
        }
    }
}

/// An encoded image (PNG, JPEG, WebP) as it is sent to the VLM. Cheap to clone.
#[derive(Clone)]
pub struct ImageData(Arc<Inner>);

struct Inner {
    label: String,
    mime: &'static str,
    bytes: Bytes,
    data_url: OnceLock<Bytes>,
}

impl fmt::Debug for ImageData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageData")
            .field("label", &self.0.label)
            .field("mime", &self.0.mime)
            .field("bytes", &self.0.bytes.len())
            .finish()
    }
}

impl ImageData {
    /// Wraps encoded bytes; the MIME type is sniffed from the content, falling back to `image/png` as 404 does.
    pub fn new(label: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let mime = sniff_mime(&bytes);
        Self(Arc::new(Inner {
            label: label.into(),
            mime,
            bytes,
            data_url: OnceLock::new(),
        }))
    }

    /// Reads a file with a size cap, never reading more than `limits.max_bytes + 1` bytes.
    pub fn read(path: &Path, limits: &ImageLimits) -> Result<Self> {
        let bytes = read_capped(path, limits.max_bytes, "image")?;
        Ok(Self::new(path.display().to_string(), bytes))
    }

    pub fn label(&self) -> &str {
        &self.0.label
    }

    pub fn mime(&self) -> &'static str {
        self.0.mime
    }

    pub fn bytes(&self) -> &Bytes {
        &self.0.bytes
    }

    /// `data:<mime>;base64,<...>`, encoded once per image and shared by every call that shows it.
    pub fn data_url(&self) -> &Bytes {
        self.0.data_url.get_or_init(|| {
            let engine = base64::engine::general_purpose::STANDARD;
            let prefix = format!("data:{};base64,", self.0.mime);
            let mut out = Vec::with_capacity(
                prefix.len() + base64::encoded_len(self.0.bytes.len(), true).unwrap_or(0),
            );
            out.extend_from_slice(prefix.as_bytes());
            let start = out.len();
            out.resize(
                start + base64::encoded_len(self.0.bytes.len(), true).unwrap_or(0),
                0,
            );
            let written = engine
                .encode_slice(&self.0.bytes, &mut out[start..])
                .unwrap_or(0);
            out.truncate(start + written);
            Bytes::from(out)
        })
    }

    /// Decodes to 8-bit RGB. Like PIL's `convert("RGB")`, alpha is dropped, not composited.
    pub fn decode_rgb8(&self, limits: &ImageLimits) -> Result<RgbImage> {
        let err = |reason: String| Error::ImageDecode {
            what: self.0.label.clone(),
            reason,
        };
        let format = image::guess_format(&self.0.bytes).map_err(|e| err(e.to_string()))?;
        let cursor = || std::io::Cursor::new(&self.0.bytes[..]);
        let (w, h) = image::ImageReader::with_format(cursor(), format)
            .into_dimensions()
            .map_err(|e| err(e.to_string()))?;
        let mut reader = image::ImageReader::with_format(cursor(), format);
        if u64::from(w) * u64::from(h) > limits.max_pixels {
            return Err(Error::ImageTooLarge {
                what: self.0.label.clone(),
                width: w,
                height: h,
                limit: limits.max_pixels,
            });
        }
        let mut img_limits = image::Limits::default();
        img_limits.max_image_width = Some(w);
        img_limits.max_image_height = Some(h);
        // 16-bit RGBA is the widest decode: 8 bytes per pixel, plus slack for the decoder's own buffers.
        img_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
        reader.limits(img_limits);
        let img = reader.decode().map_err(|e| err(e.to_string()))?;
        let rgb = img.to_rgb8();
        Ok(RgbImage {
            width: rgb.width(),
            height: rgb.height(),
            pixels: rgb.into_raw(),
        })
    }
}

/// Row-major 8-bit RGB pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl RgbImage {
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }
}

/// Decodes a PNG the way 404's Stage-3 reader accepts it: 8-bit RGB or RGBA only (anything else is "unavailable"
/// to the gray-rescue gate). Returns the pixels with their channel count.
pub fn decode_png_rgb_strict(
    bytes: &[u8],
    limits: &ImageLimits,
) -> std::result::Result<(u32, u32, usize, Vec<u8>), String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let info = reader.info();
    let (w, h) = (info.width, info.height);
    if u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(format!("{w}x{h} is over the pixel limit"));
    }
    let channels = match (info.bit_depth, info.color_type) {
        (png::BitDepth::Eight, png::ColorType::Rgb) => 3,
        (png::BitDepth::Eight, png::ColorType::Rgba) => 4,
        (depth, color) => return Err(format!("unsupported PNG: {depth:?} {color:?}")),
    };
    let size = reader
        .output_buffer_size()
        .ok_or("PNG output size overflows")?;
    let mut buf = vec![0; size];
    let frame = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    buf.truncate(frame.buffer_size());
    Ok((w, h, channels, buf))
}

/// Reads at most `limit` bytes of a file; a longer file is an error, never a truncated read.
pub(crate) fn read_capped(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut buf = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > limit {
        let got = std::fs::metadata(path)
            .map(|m| m.len())
            .unwrap_or(buf.len() as u64);
        return Err(Error::TooLarge {
            what: format!("{what} {}", path.display()),
            limit,
            got,
        });
    }
    Ok(buf)
}

fn sniff_mime(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else {
        "image/png"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_url_is_base64_of_the_bytes_with_sniffed_mime() {
        let img = ImageData::new("x", vec![0xFF, 0xD8, 0xFF, 0x00, 0x10]);
        let url = std::str::from_utf8(img.data_url()).unwrap();
        let (head, body) = url.split_once(',').unwrap();
        assert_eq!(head, "data:image/jpeg;base64");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        assert_eq!(decoded, vec![0xFF, 0xD8, 0xFF, 0x00, 0x10]);
        assert!(std::ptr::eq(
            img.data_url().as_ptr(),
            img.clone().data_url().as_ptr()
        ));
        assert_eq!(ImageData::new("p", b"\x89PNG".to_vec()).mime(), "image/png");
        assert_eq!(ImageData::new("u", b"????".to_vec()).mime(), "image/png");
    }

    #[test]
    fn read_capped_refuses_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.png");
        std::fs::write(&p, vec![0u8; 100]).unwrap();
        assert!(matches!(
            read_capped(&p, 99, "image"),
            Err(Error::TooLarge {
                limit: 99,
                got: 100,
                ..
            })
        ));
        assert_eq!(read_capped(&p, 100, "image").unwrap().len(), 100);
    }

    #[test]
    fn strict_png_decoder_accepts_rgb_and_rgba_only() {
        fn encode(color: png::ColorType, depth: png::BitDepth, data: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut enc = png::Encoder::new(&mut out, 2, 1);
            enc.set_color(color);
            enc.set_depth(depth);
            enc.write_header().unwrap().write_image_data(data).unwrap();
            out
        }
        let rgb = encode(
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            &[1, 2, 3, 4, 5, 6],
        );
        let (w, h, c, px) = decode_png_rgb_strict(&rgb, &ImageLimits::default()).unwrap();
        assert_eq!((w, h, c, px), (2, 1, 3, vec![1, 2, 3, 4, 5, 6]));
        let gray = encode(png::ColorType::Grayscale, png::BitDepth::Eight, &[1, 2]);
        assert!(decode_png_rgb_strict(&gray, &ImageLimits::default()).is_err());
        assert!(decode_png_rgb_strict(b"not a png", &ImageLimits::default()).is_err());
        let tiny = ImageLimits {
            max_bytes: 1 << 20,
            max_pixels: 1,
        };
        assert!(decode_png_rgb_strict(&rgb, &tiny).is_err());
    }

    #[test]
    fn decode_rgb8_drops_alpha_without_compositing() {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, 1, 1);
        enc.set_color(png::ColorType::Rgba);
        enc.write_header()
            .unwrap()
            .write_image_data(&[200, 100, 50, 0])
            .unwrap();
        let rgb = ImageData::new("a", out)
            .decode_rgb8(&ImageLimits::default())
            .unwrap();
        assert_eq!(rgb.pixel(0, 0), [200, 100, 50]);
    }
}
