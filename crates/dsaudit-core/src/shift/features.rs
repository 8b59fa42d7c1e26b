//! What the shift tests compare: per-feature columns (numbers and categories)
//! and a feature vector per sample for the multivariate tests, for tables (their
//! feature columns) and images (per-image statistics and an 8×8 thumbnail).

use crate::load::rows::{TableRows, NAMED_CATEGORIES};
use crate::load::Loaded;
use crate::stats::moments::Spread;
use std::collections::BTreeMap;

/// Per-image statistics tested one by one (manifest columns), plus width, height
/// and aspect ratio.
pub const IMAGE_STATS: &[&str] = &[
    "brightness",
    "contrast",
    "mean_r",
    "mean_g",
    "mean_b",
    "entropy",
    "sharpness",
    "dynamic_range",
];

/// Categories one-hot encoded per text column in the feature vectors: the most
/// frequent ones; the rest share a single "other" column.
const ONE_HOT: usize = 10;

type Getter<'a, T> = Box<dyn Fn(usize) -> T + Sync + 'a>;

pub struct Numeric<'a> {
    pub name: String,
    /// Value of manifest row i (NaN: missing).
    pub get: Getter<'a, f64>,
}

pub struct Categorical<'a> {
    pub name: String,
    /// Category code of manifest row i (0: missing).
    pub get: Getter<'a, u64>,
    pub names: BTreeMap<u64, String>,
}

pub struct Features<'a> {
    pub numeric: Vec<Numeric<'a>>,
    pub categorical: Vec<Categorical<'a>>,
    /// Thumbnail pixels appended to the feature vectors (images only).
    pub thumbs: Option<&'a [Option<[u8; 64]>]>,
}

/// What is compared of each sample: a table's feature columns, or an image's
/// statistics, size, format and mode (plus its 8×8 thumbnail).
pub fn of(loaded: &Loaded) -> Option<Features<'_>> {
    match &loaded.rows {
        Some(rows) => of_table(rows, loaded.manifest.len()),
        None => of_images(loaded),
    }
}

fn of_table(rows: &TableRows, n: usize) -> Option<Features<'_>> {
    if rows.len() != n {
        return None;
    }
    let d = rows.features.numeric.len();
    let t = rows.features.text.len();
    let numeric = rows
        .features
        .numeric
        .iter()
        .enumerate()
        .map(|(j, name)| Numeric {
            name: name.clone(),
            get: Box::new(move |i| rows.numeric[i * d + j] as f64),
        })
        .collect();
    let categorical = rows
        .features
        .text
        .iter()
        .enumerate()
        .map(|(j, name)| Categorical {
            name: name.clone(),
            get: Box::new(move |i| rows.text_codes[i * t + j]),
            names: rows.text_names.get(j).cloned().unwrap_or_default(),
        })
        .collect();
    Some(Features {
        numeric,
        categorical,
        thumbs: None,
    })
}

fn of_images(loaded: &Loaded) -> Option<Features<'_>> {
    let m = &loaded.manifest;
    if loaded.thumbs.len() != m.len() || m.is_empty() {
        return None;
    }
    let mut numeric: Vec<Numeric> = IMAGE_STATS
        .iter()
        .map(|&name| {
            let col = m.f64s(name);
            Numeric {
                name: name.to_string(),
                get: Box::new(move |i| col.get(i).unwrap_or(f64::NAN)),
            }
        })
        .collect();
    let (w, h) = (m.u32s("width"), m.u32s("height"));
    let size = |c: &'static str| -> Getter<f64> {
        Box::new(move |i| {
            let (wi, hi) = (w.get(i), h.get(i));
            match (c, wi, hi) {
                ("width", Some(x), _) | ("height", _, Some(x)) => x as f64,
                ("aspect_ratio", Some(x), Some(y)) if y > 0 => x as f64 / y as f64,
                _ => f64::NAN,
            }
        })
    };
    for c in ["width", "height", "aspect_ratio"] {
        numeric.push(Numeric {
            name: c.to_string(),
            get: size(c),
        });
    }
    let categorical = ["format", "mode"]
        .iter()
        .map(|&name| {
            let col = m.strs(name);
            let mut names = BTreeMap::new();
            for v in col.iter().flatten() {
                if names.len() >= NAMED_CATEGORIES {
                    break;
                }
                names.entry(code(v)).or_insert_with(|| v.to_string());
            }
            Categorical {
                name: name.to_string(),
                get: Box::new(move |i| col.get(i).map(code).unwrap_or(0)),
                names,
            }
        })
        .collect();
    Some(Features {
        numeric,
        categorical,
        thumbs: Some(&loaded.thumbs),
    })
}

fn code(s: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(s.as_bytes()).max(1)
}

/// Feature vectors for the multivariate tests: every numeric feature, the most
/// frequent categories of each categorical one one-hot, and thumbnail pixels.
/// Standardized with the mean and deviation over `fit_rows`; missing values sit
/// at the mean (0).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Vectors {
    pub names: Vec<String>,
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// (feature, code) per one-hot column, in order after the numeric ones.
    one_hot: Vec<(usize, Option<u64>)>,
}

impl Vectors {
    pub fn fit(f: &Features, fit_rows: &[usize]) -> Vectors {
        let mut names: Vec<String> = f.numeric.iter().map(|n| n.name.clone()).collect();
        let mut one_hot = Vec::new();
        for (k, c) in f.categorical.iter().enumerate() {
            let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
            for &i in fit_rows {
                *counts.entry((c.get)(i)).or_insert(0) += 1;
            }
            if counts.len() < 2 {
                continue;
            }
            let mut top: Vec<(u64, u64)> = counts.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let rest = top.len() > ONE_HOT;
            for &(code, _) in top.iter().take(ONE_HOT) {
                let label = match c.names.get(&code) {
                    Some(v) => v.clone(),
                    None if code == 0 => "(missing)".into(),
                    None => format!("#{code:016x}"),
                };
                names.push(format!("{}={label}", c.name));
                one_hot.push((k, Some(code)));
            }
            if rest {
                names.push(format!("{}=(other)", c.name));
                one_hot.push((k, None));
            }
        }
        if f.thumbs.is_some() {
            names.extend((0..64).map(|p| format!("thumbnail[{},{}]", p / 8, p % 8)));
        }
        let mut v = Vectors {
            mean: vec![0.0; names.len()],
            scale: vec![1.0; names.len()],
            names,
            one_hot,
        };
        let raw = v.raw(f, fit_rows);
        let d = v.names.len();
        let mut spread = Spread::new(d);
        raw.chunks_exact(d.max(1))
            .for_each(|row| spread.push_row(row));
        v.mean = spread.means().to_vec();
        v.scale = spread
            .stds()
            .into_iter()
            .map(|std| if std > 0.0 { std } else { 1.0 })
            .collect();
        v
    }

    pub fn dim(&self) -> usize {
        self.names.len()
    }

    fn raw(&self, f: &Features, rows: &[usize]) -> Vec<f64> {
        let d = self.names.len();
        let mut out = Vec::with_capacity(rows.len() * d);
        for &i in rows {
            for n in &f.numeric {
                out.push((n.get)(i));
            }
            for &(k, code) in &self.one_hot {
                let c = &f.categorical[k];
                let v = (c.get)(i);
                let hit = match code {
                    Some(code) => v == code,
                    None => !self
                        .one_hot
                        .iter()
                        .any(|&(k2, c2)| k2 == k && c2 == Some(v)),
                };
                out.push(if hit { 1.0 } else { 0.0 });
            }
            if let Some(thumbs) = f.thumbs {
                match thumbs[i] {
                    Some(t) => out.extend(t.iter().map(|&p| p as f64)),
                    None => out.extend(std::iter::repeat_n(f64::NAN, 64)),
                }
            }
        }
        out
    }

    /// Per-dimension medians of the raw values over `rows` (non-finite ones skipped;
    /// 0 for a dimension with none).
    pub fn medians(&self, f: &Features, rows: &[usize]) -> Vec<f64> {
        let d = self.dim();
        let raw = self.raw(f, rows);
        (0..d)
            .map(|j| {
                let mut v: Vec<f64> = raw
                    .iter()
                    .skip(j)
                    .step_by(d.max(1))
                    .copied()
                    .filter(|x| x.is_finite())
                    .collect();
                if v.is_empty() {
                    return 0.0;
                }
                v.sort_by(f64::total_cmp);
                let m = v.len() / 2;
                if v.len() % 2 == 1 {
                    v[m]
                } else {
                    (v[m - 1] + v[m]) / 2.0
                }
            })
            .collect()
    }

    /// Like `matrix`, with each non-finite raw value replaced by `fill` of its
    /// dimension before standardizing; also which rows had one.
    pub fn matrix_filled(
        &self,
        f: &Features,
        rows: &[usize],
        fill: &[f64],
    ) -> (Vec<f64>, Vec<bool>) {
        let d = self.dim();
        let mut x = self.raw(f, rows);
        let mut filled = vec![false; rows.len()];
        for (k, v) in x.iter_mut().enumerate() {
            let j = k % d;
            if !v.is_finite() {
                *v = fill[j];
                filled[k / d] = true;
            }
            *v = (*v - self.mean[j]) / self.scale[j];
        }
        (x, filled)
    }

    /// Row-major `rows.len() × dim()` standardized vectors.
    pub fn matrix(&self, f: &Features, rows: &[usize]) -> Vec<f64> {
        let d = self.dim();
        let mut x = self.raw(f, rows);
        for (k, v) in x.iter_mut().enumerate() {
            let j = k % d;
            *v = if v.is_finite() {
                (*v - self.mean[j]) / self.scale[j]
            } else {
                0.0
            };
        }
        x
    }
}
