//! A side's view bundle as the judge reads it (competition.md §6.3): 8 white views, 4 gray views, the 2×2 grid
//! and the optional DINOv3 `embeddings.npz`; loaded from 404's CDN layout or from a `sn17 render` folder.

use std::path::Path;

use crate::error::{Error, Result};
use crate::image::{read_capped, ImageData, ImageLimits};
use crate::npz::Embeddings;

/// The 8 white views, in 404's WHITE order (also the order of `embeddings.npz` and of `sn17 render`'s judge rig).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    FrontLeft,
    FrontRight,
    FrontBelow,
    FrontAbove,
    Right,
    Back,
    Left,
    TopDown,
}

impl View {
    pub const WHITE: [View; 8] = [
        View::FrontLeft,
        View::FrontRight,
        View::FrontBelow,
        View::FrontAbove,
        View::Right,
        View::Back,
        View::Left,
        View::TopDown,
    ];
    /// The gray set is the four front views.
    pub const GRAY: [View; 4] = [
        View::FrontLeft,
        View::FrontRight,
        View::FrontBelow,
        View::FrontAbove,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::FrontLeft => "front_left",
            View::FrontRight => "front_right",
            View::FrontBelow => "front_below",
            View::FrontAbove => "front_above",
            View::Right => "right",
            View::Back => "back",
            View::Left => "left",
            View::TopDown => "top_down",
        }
    }

    pub fn from_name(name: &str) -> Option<View> {
        View::WHITE.into_iter().find(|v| v.name() == name)
    }

    /// (θ, φ) in degrees as 404's renderer places the camera.
    pub fn angles(self) -> (f32, f32) {
        match self {
            View::FrontLeft => (30.0, 0.0),
            View::FrontRight => (330.0, 0.0),
            View::FrontBelow => (0.0, 15.0),
            View::FrontAbove => (0.0, -30.0),
            View::Right => (90.0, 0.0),
            View::Back => (180.0, 0.0),
            View::Left => (270.0, 0.0),
            View::TopDown => (0.0, -90.0),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Everything the duel reads about one side of one prompt.
#[derive(Debug, Clone)]
pub struct ViewBundle {
    white: [ImageData; 8],
    gray: [Option<ImageData>; 4],
    grid: ImageData,
    embeddings: Option<Embeddings>,
}

/// Largest `embeddings.npz` accepted (404's is about 14 KB).
const MAX_NPZ_BYTES: u64 = 1 << 20;

impl ViewBundle {
    /// `gray` may be missing (Stage 3 then treats it as unavailable), as may `embeddings` (Stage 2A abstains).
    pub fn new(
        white: [ImageData; 8],
        gray: [Option<ImageData>; 4],
        grid: ImageData,
        embeddings: Option<Embeddings>,
    ) -> Self {
        Self {
            white,
            gray,
            grid,
            embeddings,
        }
    }

    pub fn white(&self, view: View) -> &ImageData {
        &self.white[view.index()]
    }

    /// The gray render of a front view; `None` for views that have no gray render or when it is missing.
    pub fn gray(&self, view: View) -> Option<&ImageData> {
        self.gray.get(view.index()).and_then(Option::as_ref)
    }

    pub fn grid(&self) -> &ImageData {
        &self.grid
    }

    pub fn embeddings(&self) -> Option<&Embeddings> {
        self.embeddings.as_ref()
    }

    pub fn set_embeddings(&mut self, embeddings: Option<Embeddings>) {
        self.embeddings = embeddings;
    }

    /// Loads a bundle folder in either layout:
    /// - 404's: `white/<name>.png` ×8, `gray/<name>.png` ×4, `grid.png`, `embeddings.npz`;
    /// - `sn17 render` with the judge rig: `view_000.png`…`view_007.png` (white, WHITE order), `view_008.png`…
    ///   `view_011.png` (gray, GRAY order), `grid.png`, optionally `embeddings.npz`.
    ///
    /// A missing white view or grid makes the whole bundle unusable (the side then loses the prompt, as a null
    /// `views` does in 404); an unreadable `embeddings.npz` is dropped with a warning, as 404's Stage 2A does.
    pub fn load_dir(dir: &Path, limits: &ImageLimits) -> Result<Self> {
        let bundle_err = |reason: String| Error::Bundle {
            path: dir.to_path_buf(),
            reason,
        };
        if !dir.is_dir() {
            return Err(bundle_err("not a folder".into()));
        }
        let named = dir.join("white").is_dir();
        let white_path = |i: usize, v: View| {
            if named {
                dir.join("white").join(format!("{}.png", v.name()))
            } else {
                dir.join(format!("view_{i:03}.png"))
            }
        };
        let gray_path = |i: usize, v: View| {
            if named {
                dir.join("gray").join(format!("{}.png", v.name()))
            } else {
                dir.join(format!("view_{:03}.png", 8 + i))
            }
        };
        let mut white = Vec::with_capacity(8);
        for (i, v) in View::WHITE.into_iter().enumerate() {
            let p = white_path(i, v);
            if !p.is_file() {
                return Err(bundle_err(format!(
                    "missing white view {} ({})",
                    v.name(),
                    p.display()
                )));
            }
            white.push(ImageData::read(&p, limits)?);
        }
        let mut gray: [Option<ImageData>; 4] = Default::default();
        for (i, v) in View::GRAY.into_iter().enumerate() {
            let p = gray_path(i, v);
            if p.is_file() {
                gray[i] = Some(ImageData::read(&p, limits)?);
            }
        }
        let grid_path = dir.join("grid.png");
        if !grid_path.is_file() {
            return Err(bundle_err("missing grid.png".into()));
        }
        let grid = ImageData::read(&grid_path, limits)?;
        let npz_path = dir.join("embeddings.npz");
        let embeddings = if npz_path.is_file() {
            match read_capped(&npz_path, MAX_NPZ_BYTES, "embeddings")
                .and_then(|b| Embeddings::from_npz(&b))
            {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::warn!(path = %npz_path.display(), error = %e, "ignoring unreadable embeddings");
                    None
                }
            }
        } else {
            None
        };
        let white: [ImageData; 8] = white
            .try_into()
            .map_err(|_| bundle_err("internal: white view count".into()))?;
        Ok(Self::new(white, gray, grid, embeddings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(dir: &Path, rel: &str, shade: u8) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, 1, 1);
        enc.set_color(png::ColorType::Rgb);
        enc.write_header()
            .unwrap()
            .write_image_data(&[shade; 3])
            .unwrap();
        std::fs::write(p, out).unwrap();
    }

    #[test]
    fn loads_both_layouts_in_white_order() {
        let d404 = tempfile::tempdir().unwrap();
        let dsn = tempfile::tempdir().unwrap();
        for (i, v) in View::WHITE.into_iter().enumerate() {
            png(d404.path(), &format!("white/{}.png", v.name()), i as u8);
            png(dsn.path(), &format!("view_{i:03}.png"), i as u8);
        }
        for (i, v) in View::GRAY.into_iter().enumerate() {
            png(
                d404.path(),
                &format!("gray/{}.png", v.name()),
                100 + i as u8,
            );
            png(dsn.path(), &format!("view_{:03}.png", 8 + i), 100 + i as u8);
        }
        png(d404.path(), "grid.png", 200);
        png(dsn.path(), "grid.png", 200);
        let mut e = Embeddings::new();
        e.insert("prompt", vec![1.0]);
        std::fs::write(d404.path().join("embeddings.npz"), e.to_npz().unwrap()).unwrap();
        let limits = ImageLimits::default();
        let a = ViewBundle::load_dir(d404.path(), &limits).unwrap();
        let b = ViewBundle::load_dir(dsn.path(), &limits).unwrap();
        for v in View::WHITE {
            assert_eq!(a.white(v).bytes(), b.white(v).bytes(), "{}", v.name());
        }
        assert_eq!(
            a.gray(View::FrontAbove).unwrap().bytes(),
            b.gray(View::FrontAbove).unwrap().bytes()
        );
        assert!(a.gray(View::Back).is_none());
        assert_eq!(a.embeddings().unwrap().get("prompt"), Some(&[1.0][..]));
        assert!(b.embeddings().is_none());
    }

    #[test]
    fn missing_view_or_grid_makes_the_bundle_unusable() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..7 {
            png(d.path(), &format!("view_{i:03}.png"), 0);
        }
        png(d.path(), "grid.png", 0);
        let err = ViewBundle::load_dir(d.path(), &ImageLimits::default()).unwrap_err();
        assert!(err.to_string().contains("top_down"), "{err}");
        png(d.path(), "view_007.png", 0);
        std::fs::remove_file(d.path().join("grid.png")).unwrap();
        let err = ViewBundle::load_dir(d.path(), &ImageLimits::default()).unwrap_err();
        assert!(err.to_string().contains("grid"), "{err}");
    }
}
