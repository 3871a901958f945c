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
