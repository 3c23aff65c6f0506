//! `sn17 render` (assets to multi-view PNGs and a grid, as validators render them) and
//! `sn17 inspect` (what an asset holds and which limits it breaks).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;
use sn17_gpu::assets::{self, inspect, LoadOptions};
use sn17_gpu::output;
use sn17_gpu::prepare::{Normalization, UpAxis};
use sn17_gpu::render::{self, Backend};
use sn17_gpu::rig::{self, Rig};
use sn17_gpu::Limits;

use crate::cli::GlobalArgs;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BackgroundArg {
    White,
    Gray,
    Black,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UpArg {
    /// +Y up (competition 0 onward, GLB, three.js).
    YUp,
    /// +Y down (legacy 404 splats, the OpenCV/COLMAP frame 3DGS trains in).
    YDown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NormalizeArg {
    None,
    UnitCube,
    /// 404's legacy splat validator (scalar-mean recentring, extent 1.5, opacity ÷ factor).
    Legacy404,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Assets (.ply, .spz, .glb) or folders holding them.
    #[arg(required = true)]
    pub assets: Vec<PathBuf>,
    /// Output folder: view_000.png ... and grid.png (one subfolder per asset when rendering several).
    #[arg(long)]
    pub out: PathBuf,
    /// A preset rig: judge (default: the current judge bundle), mesh-era or splat-era.
    #[arg(long, conflicts_with = "views")]
    pub rig: Option<String>,
    /// A custom orbit of N views evenly spaced in azimuth (instead of a preset).
    #[arg(long)]
    pub views: Option<usize>,
    /// Image size in pixels (square).
    #[arg(long)]
    pub size: Option<u32>,
    /// Camera distance from the origin.
    #[arg(long)]
    pub radius: Option<f32>,
    /// Camera elevation above the horizon in degrees (404's φ is its negative).
    #[arg(long, allow_hyphen_values = true)]
    pub elevation: Option<f32>,
    /// Vertical field of view in degrees.
    #[arg(long)]
    pub fov: Option<f32>,
    #[arg(long, value_enum)]
    pub background: Option<BackgroundArg>,
    /// auto (CUDA, then a hardware wgpu adapter, then CPU), cpu, wgpu or cuda.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Override the rig's up-axis convention.
    #[arg(long, value_enum)]
    pub up: Option<UpArg>,
    /// Override the rig's normalisation.
    #[arg(long, value_enum)]
    pub normalize: Option<NormalizeArg>,
    /// Assets in flight: loaded together (one thread each), rendered together (the CUDA
    /// backend overlaps them on several streams) while the previous group's PNGs are written.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    pub asset: PathBuf,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Asset limits (defaults: what a validator accepts). Files over a limit are refused unread.
#[derive(Args, Debug, Clone, Default)]
pub struct LimitArgs {
    /// Largest file, in bytes, as stored.
    #[arg(long)]
    pub max_file_bytes: Option<u64>,
    /// Most gaussians in a splat file.
    #[arg(long)]
    pub max_gaussians: Option<u64>,
    /// Most triangles in a mesh, after node instancing.
    #[arg(long)]
    pub max_triangles: Option<u64>,
    /// Most pixels in any one texture.
    #[arg(long)]
    pub max_texture_pixels: Option<u64>,
    /// Most bytes produced by decompression (SPZ payloads, texture images).
    #[arg(long)]
    pub max_decompressed_bytes: Option<u64>,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        let mut l = Limits::default();
        if let Some(v) = self.max_file_bytes {
            l.max_file_bytes = v;
        }
        if let Some(v) = self.max_gaussians {
            l.max_gaussians = v;
        }
        if let Some(v) = self.max_triangles {
            l.max_triangles = v;
        }
        if let Some(v) = self.max_texture_pixels {
            l.max_texture_pixels = v;
        }
        if let Some(v) = self.max_decompressed_bytes {
            l.max_decompressed_bytes = v;
        }
        l
    }
}

/// Builds the rig from a preset or a custom orbit, then applies overrides to every view.
pub fn build_rig(a: &RenderArgs) -> anyhow::Result<Rig> {
    let custom = a.views.is_some()
        || (a.rig.is_none()
            && (a.size.is_some()
                || a.radius.is_some()
                || a.elevation.is_some()
                || a.fov.is_some()
                || a.background.is_some()));
    let mut r = if custom {
        rig::orbit(a.views.unwrap_or(8), 512, 2.0, 15.0, 49.1, rig::WHITE)
    } else {
        rig::preset(a.rig.as_deref().unwrap_or("judge"))?
    };
    if a.views == Some(0) {
        anyhow::bail!("--views must be at least 1");
    }
    let bg = a.background.map(|b| match b {
        BackgroundArg::White => rig::WHITE,
        BackgroundArg::Gray => rig::GRAY,
        BackgroundArg::Black => rig::BLACK,
    });
    for v in r.views_mut() {
        if let Some(s) = a.size {
            v.size = s;
        }
        if let Some(x) = a.radius {
            v.radius = x;
        }
        if let Some(e) = a.elevation {
            v.phi_deg = -e;
        }
        if let Some(f) = a.fov {
            v.fov_deg = f;
        }
        if let Some(b) = bg {
            v.background = b;
        }
    }
    if let Some(u) = a.up {
        r.up = match u {
            UpArg::YUp => UpAxis::YUp,
            UpArg::YDown => UpAxis::YDown,
        };
    }
    if let Some(n) = a.normalize {
        r.normalization = match n {
            NormalizeArg::None => Normalization::None,
            NormalizeArg::UnitCube => Normalization::UnitCube,
            NormalizeArg::Legacy404 => Normalization::Legacy404Splat,
        };
    }
    Ok(r)
}

fn is_asset(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("ply" | "spz" | "glb")
    )
}

/// Expands folders (recursively) into their .ply/.spz/.glb files, sorted.
pub fn collect_assets(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            let mut found = Vec::new();
            while let Some(d) = stack.pop() {
                for e in
                    std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?
                {
                    let path = e?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if is_asset(&path) {
                        found.push(path);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        anyhow::bail!("no .ply, .spz or .glb files found");
    }
    Ok(out)
}

/// Output folders: `out` itself for one asset, `out/<stem>` (deduplicated) for several.
fn out_dirs(out: &Path, assets: &[PathBuf]) -> Vec<PathBuf> {
    if assets.len() == 1 {
        return vec![out.to_path_buf()];
    }
    let mut seen = std::collections::HashMap::<String, usize>::new();
    assets
        .iter()
        .map(|a| {
            let stem = a
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "asset".into());
            let n = seen.entry(stem.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                out.join(&stem)
            } else {
                out.join(format!("{stem}-{n}"))
            }
        })
        .collect()
}

#[derive(Serialize)]
struct ViewEntry<'a> {
    file: String,
    name: &'a str,
    theta_deg: f32,
    phi_deg: f32,
    radius: f32,
    fov_deg: f32,
    size: u32,
    background: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    asset: String,
    format: &'static str,
    kind: &'static str,
    rig: &'a Rig,
    renderer: String,
    views: Vec<ViewEntry<'a>>,
    grid: &'static str,
}

#[derive(Serialize)]
struct Outcome {
    asset: String,
    out: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    seconds: f64,
}

fn load_one(asset: &Path, limits: &Limits) -> anyhow::Result<(assets::Asset, assets::Format)> {
    let opts = LoadOptions {
        limits: *limits,
        ..LoadOptions::default()
    };
    assets::load_path(asset, &opts).with_context(|| format!("loading {}", asset.display()))
}

fn manifest_of(
    renderer: &dyn render::Renderer,
    rig: &Rig,
    asset: &Path,
    a: &assets::Asset,
    format: assets::Format,
) -> anyhow::Result<Vec<u8>> {
    let views = rig
        .views
        .iter()
        .enumerate()
        .map(|(i, v)| ViewEntry {
            file: output::view_file_name(i),
            name: &v.name,
            theta_deg: v.theta_deg,
            phi_deg: v.phi_deg,
            radius: v.radius,
            fov_deg: v.fov_deg,
            size: v.size,
            background: v.background.iter().map(|b| format!("{b:02x}")).collect(),
        })
        .collect();
    let manifest = Manifest {
        asset: asset.display().to_string(),
        format: format.name(),
        kind: a.kind(),
        rig,
        renderer: renderer.description(),
        views,
        grid: "grid.png",
    };
    Ok(serde_json::to_vec_pretty(&manifest)?)
}

/// One loaded group: (asset index, the asset or why it failed, when its work started).
type Loaded = Vec<(
    usize,
    anyhow::Result<(assets::Asset, assets::Format)>,
    Instant,
)>;

pub async fn run_render(g: &GlobalArgs, args: RenderArgs) -> anyhow::Result<()> {
    let json = g.json;
    tokio::task::spawn_blocking(move || render_blocking(&args, json)).await?
}

fn render_blocking(args: &RenderArgs, json: bool) -> anyhow::Result<()> {
    let rig = build_rig(args)?;
    let limits = args.limits.limits();
    let assets = collect_assets(&args.assets)?;
    let dirs = out_dirs(&args.out, &assets);
    let backend: Backend = args.backend.parse()?;
    let renderer = render::create_renderer(backend)?;
    tracing::info!(renderer = %renderer.description(), rig = %rig.name, assets = assets.len(), "rendering");
    let bar = indicatif::ProgressBar::new(assets.len() as u64);
    if assets.len() > 1 && !json {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} {elapsed_precise} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    // Three stages overlap: a loader thread reads the next group of assets (one thread per
    // asset), the renderer takes a whole group at once (`render_rigs`), and a writer thread
    // encodes and writes the previous group's PNGs (parallel inside).
    let batch = args.batch.max(1);
    let (ltx, lrx) = std::sync::mpsc::sync_channel::<Loaded>(1);
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<(usize, render::Rendered, Vec<u8>, Instant)>(2 * batch);
    let mut outcomes: Vec<Option<Outcome>> = (0..assets.len()).map(|_| None).collect();
    let fail = |i: usize, e: &anyhow::Error, started: Instant| Outcome {
        asset: assets[i].display().to_string(),
        out: dirs[i].display().to_string(),
        ok: false,
        error: Some(format!("{e:#}")),
        seconds: started.elapsed().as_secs_f64(),
    };
    std::thread::scope(|s| -> anyhow::Result<()> {
        let assets = &assets;
        let limits = &limits;
        s.spawn(move || {
            let idx: Vec<usize> = (0..assets.len()).collect();
            for group in idx.chunks(batch) {
                let loaded: Loaded = std::thread::scope(|ls| {
                    let handles: Vec<_> = group
                        .iter()
                        .map(|&i| {
                            ls.spawn(move || {
                                let started = Instant::now();
                                (i, load_one(&assets[i], limits), started)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .zip(group)
                        .map(|(h, &i)| {
                            h.join().unwrap_or_else(|_| {
                                (i, Err(anyhow::anyhow!("loader panicked")), Instant::now())
                            })
                        })
                        .collect()
                });
                if ltx.send(loaded).is_err() {
                    break;
                }
            }
        });
        let writer = s.spawn(|| {
            let mut done = Vec::new();
            for (i, rendered, manifest, started) in rx {
                let r = output::write_rendered(&dirs[i], &rendered)
                    .map_err(anyhow::Error::from)
                    .and_then(|_| {
                        std::fs::write(dirs[i].join("views.json"), &manifest)
                            .context("writing views.json")
                    });
                done.push((i, r, started.elapsed().as_secs_f64()));
                bar.inc(1);
            }
            done
        });
        'groups: for loaded in lrx {
            bar.set_message(
                loaded
                    .first()
                    .and_then(|(i, _, _)| assets[*i].file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            let mut ok = Vec::new();
            for (i, r, started) in loaded {
                match r {
                    Ok(a) => ok.push((i, a, started)),
                    Err(e) => {
                        bar.inc(1);
                        outcomes[i] = Some(fail(i, &e, started));
                    }
                }
            }
            let refs: Vec<&assets::Asset> = ok.iter().map(|(_, (a, _), _)| a).collect();
            let results = sn17_gpu::render_rigs(renderer.as_ref(), &refs, &rig);
            for ((i, (a, format), started), r) in ok.iter().zip(results) {
                let made = r
                    .with_context(|| format!("rendering {}", assets[*i].display()))
                    .and_then(|rendered| {
                        std::fs::create_dir_all(&dirs[*i])
                            .with_context(|| format!("creating {}", dirs[*i].display()))?;
                        let m = manifest_of(renderer.as_ref(), &rig, &assets[*i], a, *format)?;
                        Ok((rendered, m))
                    });
                match made {
                    Ok((rendered, manifest)) => {
                        if tx.send((*i, rendered, manifest, *started)).is_err() {
                            break 'groups;
                        }
                    }
                    Err(e) => {
                        bar.inc(1);
                        outcomes[*i] = Some(fail(*i, &e, *started));
                    }
                }
            }
        }
        drop(tx);
        let written = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the PNG writer thread panicked"))?;
        for (i, r, seconds) in written {
            outcomes[i] = Some(Outcome {
                asset: assets[i].display().to_string(),
                out: dirs[i].display().to_string(),
                ok: r.is_ok(),
                error: r.err().map(|e| format!("{e:#}")),
                seconds,
            });
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let outcomes: Vec<Outcome> = outcomes.into_iter().flatten().collect();
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    if json {
        crate::output::json(&outcomes)?;
    } else {
        for o in &outcomes {
            match &o.error {
                None => println!("{} -> {} ({:.2}s)", o.asset, o.out, o.seconds),
                Some(e) => eprintln!("{}: {e}", o.asset),
            }
        }
        eprintln!("renderer: {}", renderer.description());
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} assets failed", outcomes.len());
    }
    Ok(())
}

/// Prints the report; fails (exit status 1) when the asset breaks a limit or does not load, so
/// scripts can ask "would a validator accept this file?".
pub fn run_inspect(g: &GlobalArgs, args: InspectArgs) -> anyhow::Result<()> {
    let limits = args.limits.limits();
    let file = assets::FileBytes::open(&args.asset, None)
        .with_context(|| format!("opening {}", args.asset.display()))?;
    let report = inspect::inspect(file.bytes(), &limits)
        .with_context(|| format!("inspecting {}", args.asset.display()))?;
    if g.json {
        crate::output::json(&report)?;
    } else {
        println!("file:        {}", args.asset.display());
        println!("format:      {} ({})", report.format, report.kind);
        println!("bytes:       {}", report.file_bytes);
        if let Some(d) = report.decompressed_bytes {
            println!("decompressed: {d}");
        }
        if let Some(n) = report.gaussians {
            println!("gaussians:   {n}");
        }
        if let Some(d) = report.sh_degree {
            println!("sh degree:   {d}");
        }
        if let Some(a) = report.antialiased {
            println!("antialiased: {a}");
        }
        if let Some(m) = &report.glb {
            println!(
                "meshes:      {} ({} primitives, {} instances, {} nodes, {} materials)",
                m.meshes, m.primitives, m.instances, m.nodes, m.materials
            );
            println!("triangles:   {} ({} vertices)", m.triangles, m.vertices);
            for t in &m.textures {
                println!(
                    "texture {}:   {}x{} {}",
                    t.index,
                    t.width,
                    t.height,
                    t.mime.as_deref().unwrap_or("?")
                );
            }
        }
        if let Some(b) = &report.bounds {
            println!("bounds:      {:?} .. {:?}", b.min, b.max);
        }
        for v in &report.broken_limits {
            println!(
                "LIMIT {}: {}{} > {}",
                v.limit,
                if v.at_least { "at least " } else { "" },
                v.value,
                v.max
            );
        }
        if let Some(e) = &report.load_error {
            println!("LOAD ERROR:  {e}");
        }
    }
    if !report.broken_limits.is_empty() {
        anyhow::bail!(
            "{} breaks {} limit(s)",
            args.asset.display(),
            report.broken_limits.len()
        );
    }
    if let Some(e) = report.load_error {
        anyhow::bail!("{} does not load: {e}", args.asset.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: impl FnOnce(&mut RenderArgs)) -> RenderArgs {
        let mut a = RenderArgs {
            assets: vec![PathBuf::from("x.ply")],
            out: PathBuf::from("out"),
            rig: None,
            views: None,
            size: None,
            radius: None,
            elevation: None,
            fov: None,
            background: None,
            backend: "cpu".into(),
            up: None,
            normalize: None,
            batch: 8,
            limits: LimitArgs::default(),
        };
        extra(&mut a);
        a
    }

    #[test]
    fn rig_defaults_presets_and_overrides() {
        assert_eq!(build_rig(&args(|_| {})).unwrap().name, "judge");
        let r = build_rig(&args(|a| a.views = Some(6))).unwrap();
        assert_eq!((r.name.as_str(), r.views.len()), ("orbit", 6));
        let r = build_rig(&args(|a| {
            a.rig = Some("splat-era".into());
            a.size = Some(64);
            a.elevation = Some(-10.0);
            a.background = Some(BackgroundArg::Black);
            a.up = Some(UpArg::YDown);
        }))
        .unwrap();
        assert_eq!(r.views.len(), 16);
        assert!(r
            .views
            .iter()
            .all(|v| v.size == 64 && v.phi_deg == 10.0 && v.background == rig::BLACK));
        assert_eq!(r.up, UpAxis::YDown);
        // Overrides reach the judge bundle's separate grid views too.
        let r = build_rig(&args(|a| a.size = Some(100))).unwrap();
        assert_eq!(r.name, "orbit", "a size alone asks for a custom orbit");
        let r = build_rig(&args(|a| {
            a.rig = Some("judge".into());
            a.radius = Some(3.0);
        }))
        .unwrap();
        let rig::GridSource::Extra(grid) = &r.grid.source else {
            panic!()
        };
        assert!(grid.iter().chain(&r.views).all(|v| v.radius == 3.0));
        assert!(build_rig(&args(|a| a.rig = Some("nope".into()))).is_err());
        assert!(build_rig(&args(|a| a.views = Some(0))).is_err());
    }

    #[test]
    fn folders_expand_to_assets_and_outputs_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        for f in ["b.GLB", "a.ply", "notes.txt", "sub/a.spz"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        let found = collect_assets(&[d.to_path_buf()]).unwrap();
        let names: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(d).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.ply", "b.GLB", "sub/a.spz"]);
        let outs = out_dirs(Path::new("o"), &found);
        assert_eq!(
            outs,
            [
                PathBuf::from("o/a"),
                PathBuf::from("o/b"),
                PathBuf::from("o/a-2")
            ]
        );
        assert_eq!(out_dirs(Path::new("o"), &found[..1]), [PathBuf::from("o")]);
        assert!(collect_assets(&[d.join("sub").join("missing-dir-but-file.ply")]).is_ok());
        let empty = tempfile::tempdir().unwrap();
        assert!(collect_assets(&[empty.path().to_path_buf()]).is_err());
    }
}
