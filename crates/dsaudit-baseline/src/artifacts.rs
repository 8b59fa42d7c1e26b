//! What a baseline run leaves behind: metrics.json (the whole report), the loss and
//! accuracy curves as CSV and as one SVG plot, and the embeddings as .npy.

use super::Report;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

pub const METRICS: &str = "metrics.json";
pub const OVERFIT_CSV: &str = "overfit.csv";
pub const TRAINING_CSV: &str = "training.csv";
pub const CURVES_SVG: &str = "curves.svg";

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

pub fn overfit_csv(r: &Report) -> String {
    let mut s = String::from("step,loss,accuracy\n");
    for (k, (l, a)) in r.overfit.losses.iter().zip(&r.overfit.accuracy).enumerate() {
        let _ = writeln!(s, "{},{},{}", k + 1, num(*l), num(*a));
    }
    s
}

pub fn training_csv(r: &Report) -> String {
    let mut s =
        String::from("epoch,steps,train_loss,train_accuracy,train_val_loss,train_val_accuracy\n");
    for e in r.training.iter().flat_map(|t| &t.epochs) {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            e.epoch,
            e.steps,
            num(e.train_loss),
            num(1.0 - e.train_error),
            num(e.train_val_loss),
            num(1.0 - e.train_val_error)
        );
    }
    s
}

type Series<'a> = (&'a str, Vec<(f64, f64)>, RGBColor);

fn panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    y_range: (f64, f64),
) -> Result<()> {
    let x_max = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..x_max, y_range.0..y_range.1)
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    for (name, points, color) in series {
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                points
                    .iter()
                    .copied()
                    .filter(|p| p.1.is_finite())
                    .map(|(x, y)| (x, y.clamp(y_range.0, y_range.1))),
                color.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    Ok(())
}

fn loss_range(series: &[Series]) -> (f64, f64) {
    let top = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    (0.0, if top > 0.0 { top * 1.05 } else { 1.0 })
}

/// Loss and accuracy of the overfit batch (top) and of the training epochs (bottom).
pub fn curves_svg(r: &Report) -> Result<String> {
    let mut svg = String::new();
    {
        let rows = if r.training.is_some() { 2 } else { 1 };
        let root = SVGBackend::with_string(&mut svg, (960, 320 * rows as u32)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| anyhow::anyhow!("plot: {e}"))?;
        let areas = root.split_evenly((rows, 2));
        let steps = |v: &[f64]| -> Vec<(f64, f64)> {
            v.iter()
                .enumerate()
                .map(|(k, &y)| ((k + 1) as f64, y))
                .collect()
        };
        let loss = [("batch loss", steps(&r.overfit.losses), RED)];
        panel(
            &areas[0],
            "overfit one batch: loss",
            "step",
            "loss",
            &loss,
            loss_range(&loss),
        )?;
        panel(
            &areas[1],
            "overfit one batch: accuracy",
            "step",
            "accuracy",
            &[("batch accuracy", steps(&r.overfit.accuracy), BLUE)],
            (0.0, 1.0),
        )?;
        if let Some(t) = &r.training {
            let by_epoch = |f: &dyn Fn(&super::train::Epoch) -> f64| -> Vec<(f64, f64)> {
                t.epochs.iter().map(|e| (e.epoch as f64, f(e))).collect()
            };
            let loss = [
                ("train", by_epoch(&|e| e.train_loss), RED),
                ("train-val", by_epoch(&|e| e.train_val_loss), BLUE),
            ];
            panel(
                &areas[2],
                "training: loss",
                "epoch",
                "loss",
                &loss,
                loss_range(&loss),
            )?;
            panel(
                &areas[3],
                "training: accuracy",
                "epoch",
                "accuracy",
                &[
                    ("train", by_epoch(&|e| 1.0 - e.train_error), RED),
                    ("train-val", by_epoch(&|e| 1.0 - e.train_val_error), BLUE),
                ],
                (0.0, 1.0),
            )?;
        }
        root.present().map_err(|e| anyhow::anyhow!("plot: {e}"))?;
    }
    Ok(svg)
}

/// Writes the report's files into `dir` (a staging directory).
pub fn write(r: &Report, dir: &Path) -> Result<Vec<&'static str>> {
    let put = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text)
            .with_context(|| format!("{}: cannot write", dir.join(name).display()))
    };
    put(METRICS, &(serde_json::to_string_pretty(r)? + "\n"))?;
    put(OVERFIT_CSV, &overfit_csv(r))?;
    let mut written = vec![METRICS, OVERFIT_CSV];
    if r.training.is_some() {
        put(TRAINING_CSV, &training_csv(r))?;
        written.push(TRAINING_CSV);
    }
    put(CURVES_SVG, &curves_svg(r)?)?;
    written.push(CURVES_SVG);
    Ok(written)
}

/// One row per manifest row (NaN for samples the baseline did not use), float32.
pub fn write_embeddings(
    path: &Path,
    manifest_rows: usize,
    data_rows: &[usize],
    values: &[f32],
    width: usize,
) -> Result<()> {
    use npyz::WriterBuilder;
    let mut full = vec![f32::NAN; manifest_rows * width];
    for (k, &row) in data_rows.iter().enumerate() {
        full[row * width..(row + 1) * width].copy_from_slice(&values[k * width..(k + 1) * width]);
    }
    dsaudit_core::output::write_atomic(path, |w| {
        let mut npy = npyz::WriteOptions::<f32>::new()
            .default_dtype()
            .shape(&[manifest_rows as u64, width as u64])
            .writer(w)
            .begin_nd()?;
        npy.extend(full.iter().copied())?;
        npy.finish()?;
        Ok(())
    })
}
