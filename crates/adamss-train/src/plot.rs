//! Figures (plotters): Kaplan–Meier curves of a risk stratification (SVG) and training
//! curves (SVG and PNG). Text is laid out (and drawn, in PNGs) with DejaVu Sans Mono, embedded
//! in the binary (`assets/`, with its licence), so a machine without fonts still labels its
//! figures.

use std::path::Path;
use std::sync::OnceLock;

use adamss_survival::{KaplanMeier, Surv};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::file(path, format!("drawing the figure: {e}"))
}

/// The series legend, boxed, in the upper right.
fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
) -> std::result::Result<(), Box<dyn std::error::Error + 'a>>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Kaplan–Meier curves of the low- and high-risk groups (`high[i]` for `y[i]`) with the
/// log-rank p-value in the title, as SVG.
pub fn km_svg(
    path: &Path,
    title: &str,
    y: &[Surv],
    high: &[bool],
    p_value: Option<f64>,
) -> Result<()> {
    let groups = [(false, "low risk", BLUE), (true, "high risk", RED)];
    let mut curves = Vec::new();
    for (want, name, colour) in groups {
        let sub: Vec<Surv> = y
            .iter()
            .zip(high)
            .filter(|(_, &h)| h == want)
            .map(|(s, _)| *s)
            .collect();
        if sub.is_empty() {
            continue;
        }
        let km = KaplanMeier::fit(&sub, 0.95)?;
        curves.push((format!("{name} (n = {})", sub.len()), colour, km));
    }
    let t_max = y.iter().map(|s| s.time()).fold(1.0f64, f64::max);
    let caption = match p_value {
        Some(p) => format!("{title} — log-rank p = {p:.2e}"),
        None => title.to_string(),
    };
    font().map_err(|e| plot_err(path, e))?;
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..t_max * 1.02, 0.0..1.02)?;
        chart
            .configure_mesh()
            .x_desc("time (days)")
            .y_desc("survival probability")
            .draw()?;
        for (label, colour, km) in &curves {
            let mut pts = vec![(0.0, 1.0)];
            let mut last = 1.0;
            for (&t, &s) in km.timeline.iter().zip(&km.survival) {
                pts.push((t, last));
                pts.push((t, s));
                last = s;
            }
            pts.push((t_max, last));
            let c = *colour;
            chart
                .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        draw_legend(&mut chart)?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| plot_err(path, e))
}

/// The embedded font, registered once as plotters' `sans-serif` (plotters lays out text with
/// it for every backend).
fn font() -> std::result::Result<(), String> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(
                "sans-serif",
                FontStyle::Normal,
                include_bytes!("../assets/DejaVuSansMono.ttf"),
            )
            .map_err(|_| "the embedded font could not be read".to_string())
        })
        .clone()
}

/// One epoch of a training curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Validation metric, when validated that epoch.
    pub metric: Option<f64>,
}

/// Training loss and validation metric per epoch of one stage, as `<stem>.svg` and
/// `<stem>.png` beside each other (`path` names the SVG).
pub fn training_curves(path: &Path, title: &str, history: &[CurvePoint]) -> Result<()> {
    if history.is_empty() {
        return Ok(());
    }
    font().map_err(|e| plot_err(path, e))?;
    let size = (640, 400);
    let svg = SVGBackend::new(path, size).into_drawing_area();
    draw_training(&svg, title, history).map_err(|e| plot_err(path, e))?;
    let png = path.with_extension("png");
    let bitmap = BitMapBackend::new(&png, size).into_drawing_area();
    draw_training(&bitmap, title, history).map_err(|e| plot_err(&png, e))
}

fn draw_training<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    history: &[CurvePoint],
) -> std::result::Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let n = history.len() as f64;
    let (lo, hi) = history
        .iter()
        .flat_map(|r| std::iter::once(r.loss).chain(r.metric))
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo < hi {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let pad = 0.05 * (hi - lo);
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.5..n + 0.5, (lo - pad)..(hi + pad))?;
    chart.configure_mesh().x_desc("epoch").draw()?;
    chart
        .draw_series(LineSeries::new(
            history.iter().map(|r| (r.epoch as f64 + 1.0, r.loss)),
            BLUE.stroke_width(2),
        ))?
        .label("training loss")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            history
                .iter()
                .filter_map(|r| r.metric.map(|m| (r.epoch as f64 + 1.0, m))),
            RED.stroke_width(2),
        ))?
        .label("validation metric")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Pixels per voxel side of [`slices_png`]'s panels: about 240 pixels a panel.
fn panel_scale(n: usize) -> usize {
    (240 / n.max(1)).clamp(1, 16)
}

/// Axial slices of a crop as a PNG grid: per row (`(label, axial index)`), the CT, the PET and
/// the CT with `overlay` in red (opacity: the overlay scaled to its range over the crop), the
/// regions 0, 1 and 2 of `regions` outlined (green, cyan, yellow) on the last panel. Shown the
/// radiological way (the patient's right on the left, anterior up) for the RAS+ crop grids.
/// `ct` is in [−1, 1]; the PET is shown from its minimum to its 99.5th percentile over the crop.
pub fn slices_png(
    path: &Path,
    title: &str,
    ct: &ndarray::Array3<f32>,
    pet: &ndarray::Array3<f32>,
    regions: &ndarray::Array3<u8>,
    overlay: &ndarray::Array3<f32>,
    rows: &[(&str, usize)],
) -> Result<()> {
    font().map_err(|e| plot_err(path, e))?;
    let [nx, ny, nz] = [ct.shape()[0], ct.shape()[1], ct.shape()[2]];
    if [pet.shape(), regions.shape(), overlay.shape()]
        .iter()
        .any(|s| *s != ct.shape())
        || rows.iter().any(|&(_, z)| z >= nz)
    {
        return Err(Error::file(path, "slices_png: volumes of different shapes"));
    }
    let s = panel_scale(nx.max(ny));
    let (pw, ph) = (nx * s, ny * s);
    let (gap, head, label) = (8usize, 34usize, 22usize);
    let width = 3 * pw + 4 * gap;
    let height = head + rows.len() * (label + ph + gap) + gap;
    let range = |v: &ndarray::Array3<f32>, q: f64| {
        let mut all: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
        all.sort_by(f32::total_cmp);
        let lo = all.first().copied().unwrap_or(0.0);
        let hi = all
            .get(((all.len().saturating_sub(1)) as f64 * q) as usize)
            .copied()
            .unwrap_or(1.0);
        (lo, if hi > lo { hi } else { lo + 1.0 })
    };
    let (pet_lo, pet_hi) = range(pet, 0.995);
    let (ov_lo, ov_hi) = range(overlay, 1.0);
    let unit = |v: f32, lo: f32, hi: f32| ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    let byte = |v: f32| (v * 255.0).round() as u8;
    let hot = |t: f32| RGBColor(byte(3.0 * t), byte(3.0 * t - 1.0), byte(3.0 * t - 2.0));
    let draw = || -> std::result::Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::new(path, (width as u32, height as u32)).into_drawing_area();
        root.fill(&WHITE)?;
        let text = |t: &str, size: u32, x: usize, y: usize| {
            root.draw_text(
                t,
                &("sans-serif", size).into_text_style(&root),
                (x as i32, y as i32),
            )
        };
        text(title, 18, gap, 8)?;
        for (r, &(what, z)) in rows.iter().enumerate() {
            let top = head + r * (label + ph + gap);
            text(
                &format!("axial slice {z} ({what}); CT | PET | CT + attention"),
                14,
                gap,
                top + 2,
            )?;
            let y0 = top + label;
            for i in 0..nx {
                for j in 0..ny {
                    let g = byte(unit(ct[[i, j, z]], -1.0, 1.0));
                    let gray = RGBColor(g, g, g);
                    let p = hot(unit(pet[[i, j, z]], pet_lo, pet_hi));
                    let a = 0.8 * unit(overlay[[i, j, z]], ov_lo, ov_hi);
                    let mix = |c: u8, to: f32| byte((1.0 - a) * f32::from(c) / 255.0 + a * to);
                    let blend = RGBColor(mix(g, 1.0), mix(g, 0.0), mix(g, 0.0));
                    // Radiological view: the patient's right (low i) on the right.
                    let (px, py) = ((nx - 1 - i) * s, (ny - 1 - j) * s);
                    for (c, colour) in [gray, p, blend].into_iter().enumerate() {
                        let x0 = gap + c * (pw + gap) + px;
                        for dx in 0..s {
                            for dy in 0..s {
                                root.draw_pixel(
                                    ((x0 + dx) as i32, (y0 + py + dy) as i32),
                                    &colour,
                                )?;
                            }
                        }
                    }
                }
            }
            // Outlines on the overlay panel: an edge where a region meets another.
            let outline = [GREEN, CYAN, YELLOW];
            let x_panel = gap + 2 * (pw + gap);
            for i in 0..nx {
                for j in 0..ny {
                    let reg = regions[[i, j, z]];
                    let Some(colour) = outline.get(usize::from(reg)) else {
                        continue;
                    };
                    let (px, py) = (x_panel + (nx - 1 - i) * s, y0 + (ny - 1 - j) * s);
                    let differs = |di: i64, dj: i64| {
                        let (a, b) = (i as i64 + di, j as i64 + dj);
                        a < 0
                            || b < 0
                            || a >= nx as i64
                            || b >= ny as i64
                            || regions[[a as usize, b as usize, z]] != reg
                    };
                    // Screen left is +i, screen top is +j.
                    let edges = [
                        (differs(1, 0), (px, py), (px, py + s - 1)),
                        (differs(-1, 0), (px + s - 1, py), (px + s - 1, py + s - 1)),
                        (differs(0, 1), (px, py), (px + s - 1, py)),
                        (differs(0, -1), (px, py + s - 1), (px + s - 1, py + s - 1)),
                    ];
                    for (on, (xa, ya), (xb, yb)) in edges {
                        if on {
                            root.draw(&PathElement::new(
                                vec![(xa as i32, ya as i32), (xb as i32, yb as i32)],
                                colour,
                            ))?;
                        }
                    }
                }
            }
        }
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| plot_err(path, e))
}
