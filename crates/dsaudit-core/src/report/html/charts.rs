//! The report's SVG charts, drawn by plotters: bars of class counts and overlaid
//! histograms of a drifting feature.

use plotters::prelude::*;

pub(super) fn bar_chart(title: &str, values: &[(String, u64)]) -> Result<String, String> {
    let mut svg = String::new();
    let width = (140 + 48 * values.len() as u32).clamp(320, 1000);
    {
        let root = SVGBackend::with_string(&mut svg, (width, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max = values.iter().map(|v| v.1).max().unwrap_or(1).max(1);
        let n = values.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0..max + max / 10 + 1)
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = values.iter().map(|v| shorten(&v.0, 12)).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            // Bars one by one: plotters' Histogram series groups through a HashMap
            // and so draws in a different order on every run.
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0),
                        (SegmentValue::Exact(i + 1), v.1),
                    ],
                    RGBColor(21, 101, 192).filled(),
                );
                bar.set_margin(0, 0, 6, 6);
                bar
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

pub(super) fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

pub(super) fn histogram(
    title: &str,
    reference: &[f64],
    current: &[f64],
    names: (&str, &str),
) -> Result<String, String> {
    const BINS: usize = 24;
    // The 1st to 99th percentile of both: one extreme value must not squash the rest
    // into a single bin; values beyond fall into the edge bins.
    let mut all: Vec<f64> = reference.iter().chain(current).copied().collect();
    if all.is_empty() {
        return Err("no finite value".into());
    }
    all.sort_by(f64::total_cmp);
    let at = |q: f64| all[((all.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.01), at(0.99));
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let width = (hi - lo) / BINS as f64;
    let shares = |v: &[f64]| -> Vec<f64> {
        let mut counts = [0.0; BINS];
        for x in v {
            let b = (((x - lo) / width).max(0.0) as usize).min(BINS - 1);
            counts[b] += 1.0;
        }
        let n = v.len().max(1) as f64;
        counts.iter().map(|c| c / n).collect()
    };
    let (r, c) = (shares(reference), shares(current));
    let top = r.iter().chain(&c).copied().fold(0.0, f64::max).max(1e-9) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (360, 240)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 13))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(5)
            .y_labels(4)
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .draw()
            .map_err(|e| e.to_string())?;
        let colours = [RGBColor(21, 101, 192), RGBColor(230, 81, 0)];
        for (k, (series, name)) in [(&r, names.0), (&c, names.1)].into_iter().enumerate() {
            let colour = colours[k];
            chart
                .draw_series(series.iter().enumerate().map(|(b, &s)| {
                    let x0 = lo + b as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, s)], colour.mix(0.45).filled())
                }))
                .map_err(|e| e.to_string())?
                .label(name.to_string())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
