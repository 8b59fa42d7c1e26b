//! The feature vectors the label model and the outlier search read: the user's
//! embeddings, an image's 16×16 grey picture and shape descriptor (projected onto
//! their principal components), or a table's standardized columns.

use super::{input, projection, reuse};
use crate::load::Loaded;

/// Numbers per image the label model starts from: the 16×16 grey image, then the
/// shape descriptor.
pub const GREY_FEATURES: usize = 256;
pub const IMAGE_FEATURES: usize = GREY_FEATURES + crate::load::perceptual::SHAPE_DIMS;

pub(super) fn small_pixels(
    loaded: &Loaded,
    i: usize,
) -> Option<&[u8; crate::load::perceptual::SMALL_PIXELS]> {
    loaded.smalls.get(i)?.as_ref().map(|s| &s.pixels)
}

/// Side of the grey images the label CNN reads: the 2×2 means of the 32×32 ones.
/// Four times fewer multiply-adds than at 32 (on a CPU the folds' training is the
/// whole cost of `--label-model cnn`); digits lose nothing a label needs at 16.
pub const CNN_SIDE: usize = 16;

/// The 2×2 sums of the 32×32 grey image, row-major 16×16: four times the means.
fn quads(pixels: &[u8; crate::load::perceptual::SMALL_PIXELS]) -> [u16; GREY_FEATURES] {
    let side = crate::load::perceptual::SMALL_SIDE;
    let mut out = [0u16; GREY_FEATURES];
    for (row, pair) in out
        .chunks_exact_mut(CNN_SIDE)
        .zip(pixels.chunks_exact(2 * side))
    {
        let (top, bottom) = pair.split_at(side);
        for ((o, t), b) in row
            .iter_mut()
            .zip(top.chunks_exact(2))
            .zip(bottom.chunks_exact(2))
        {
            *o = t[0] as u16 + t[1] as u16 + b[0] as u16 + b[1] as u16;
        }
    }
    out
}

/// The 2×2 means of the 32×32 grey image, row-major 16×16, into `out`.
pub(super) fn halved(pixels: &[u8; crate::load::perceptual::SMALL_PIXELS], out: &mut [f64]) {
    for (g, &q) in out.iter_mut().zip(&quads(pixels)) {
        *g = q as f64 / 4.0;
    }
}

/// 2×2 means of the 32×32 grey image, normalised to zero mean and unit variance
/// (all zero when flat: brightness and contrast say nothing of the class), then
/// the shape descriptor.
///
/// The mean and the sum of squared deviations are summed in integers: every value
/// is a multiple of 1/4 below 256 and the mean a multiple of 1/1024, so each
/// deviation, its square and every partial sum of either is exact in an f64 (at
/// most 44 significant bits), and f64 sums in any order give these same numbers,
/// bit for bit, as the sequential sums did. (In f64, each was a chain of 256
/// dependent additions per image; with `Spread`'s loop, the label features took
/// 0.35 s of a four-part merge of 100,000 images before, 0.27 s after.)
fn image_features(
    out: &mut [f64],
    pixels: &[u8; crate::load::perceptual::SMALL_PIXELS],
    shape: &[u8; crate::load::perceptual::SHAPE_DIMS],
) {
    let (grey, rest) = out.split_at_mut(GREY_FEATURES);
    let q = quads(pixels);
    // In units of 1/4: 256 values of at most 1,020.
    let sum: i64 = q.iter().map(|&v| v as i64).sum();
    // (v - mean) in units of 1/1024 is 256 q - sum; squared, units of 2^-20.
    let squares: i64 = q.iter().map(|&v| (256 * v as i64 - sum).pow(2)).sum();
    let mean = (sum as f64 / 4.0) / GREY_FEATURES as f64;
    let sd = ((squares as f64 / (1u64 << 20) as f64) / GREY_FEATURES as f64).sqrt();
    for (g, &v) in grey.iter_mut().zip(&q) {
        *g = if sd > 0.0 {
            (v as f64 / 4.0 - mean) / sd
        } else {
            0.0
        };
    }
    for (r, &v) in rest.iter_mut().zip(shape) {
        *r = v as f64;
    }
}

/// Raw vectors, before scaling: (rows kept, their values, dim, what).
type Raw = (Vec<usize>, Values, usize, String);

/// The raw values of the rows kept: held (the user's embeddings), or computed from
/// each image's stored 32×32 grey picture and shape descriptor whenever a block of
/// rows is read (100,000 images' raw matrix is 240 MB; the scaler reads it twice,
/// and computing a row costs less than storing it).
enum Values {
    Held(Vec<f64>),
    Images,
}

/// The user's embeddings of the usable rows; they must have one row per sample.
fn from_embeddings(
    e: &input::Matrix,
    usable: &[usize],
    n: usize,
    embeddings_path: Option<&std::path::Path>,
) -> Result<Raw, String> {
    let shown = embeddings_path
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if e.rows != n {
        return Err(format!(
            "{shown}: {} rows, but the dataset has {n} samples (rows must follow the manifest's order)",
            e.rows
        ));
    }
    let d = e.cols;
    let raw = usable
        .iter()
        .flat_map(|&i| e.values[i * d..(i + 1) * d].iter().copied())
        .collect();
    Ok((
        usable.to_vec(),
        Values::Held(raw),
        d,
        format!("embeddings from {shown} ({d} dimensions)"),
    ))
}

/// The usable rows that have both a 16×16 grey image and a shape descriptor.
fn image_vectors(loaded: &Loaded, usable: &[usize]) -> Raw {
    let rows: Vec<usize> = usable
        .iter()
        .copied()
        .filter(|&i| loaded.shapes[i].is_some() && small_pixels(loaded, i).is_some())
        .collect();
    (
        rows,
        Values::Images,
        IMAGE_FEATURES,
        format!(
            "image features: the 16×16 grey image (each normalised to zero mean and unit variance) and the {}-bin shape descriptor, standardized and projected on their leading principal components",
            crate::load::perceptual::SHAPE_DIMS
        ),
    )
}

/// Image features of `rows[first..]`, as many as `out` holds.
fn image_rows(loaded: &Loaded, rows: &[usize], first: usize, out: &mut [f64]) {
    for (out, &i) in out.chunks_exact_mut(IMAGE_FEATURES).zip(&rows[first..]) {
        image_features(
            out,
            small_pixels(loaded, i).expect("kept rows have pixels"),
            &loaded.shapes[i].expect("kept rows have a shape"),
        )
    }
}

/// Feature vectors of the usable rows: the user's embeddings, the image shape
/// descriptors, or the table's columns (numeric, top categories one-hot);
/// standardized over those rows, or with `scaler` when given. Returns (rows kept,
/// row-major vectors, dim, what, the scaler used unless the table's own).
pub(super) type Vectors = (Vec<usize>, Vec<f64>, usize, String, Option<reuse::Scaler>);
pub(super) fn vectors(
    loaded: &Loaded,
    usable: &[usize],
    embeddings: Option<&input::Matrix>,
    embeddings_path: Option<&std::path::Path>,
    scaler: Option<&reuse::Scaler>,
) -> Result<Vectors, String> {
    let n = loaded.manifest.len();
    let (rows, raw, d, what): Raw = if let Some(e) = embeddings {
        from_embeddings(e, usable, n, embeddings_path)?
    } else if !loaded.shapes.is_empty() {
        image_vectors(loaded, usable)
    } else {
        let Some(f) = crate::shift::features::of(loaded) else {
            return Err("no feature vectors for this layout".into());
        };
        let v = crate::shift::features::Vectors::fit(&f, usable);
        let d = v.dim();
        if d == 0 {
            return Err("no feature to learn from".into());
        }
        // Standardized over the usable rows already.
        return Ok((
            usable.to_vec(),
            v.matrix(&f, usable),
            d,
            format!("{d} standardized table features (numeric columns, top categories one-hot)"),
            None,
        ));
    };
    if d == 0 {
        return Err("no feature to learn from".into());
    }
    let n = rows.len();
    let fill: reuse::Reader = match &raw {
        Values::Held(x) => Box::new(reuse::held(x, d)),
        Values::Images => Box::new(|first, out| image_rows(loaded, &rows, first, out)),
    };
    let scaler = scaler.cloned().unwrap_or_else(|| {
        if embeddings.is_none() {
            let components = projection::COMPONENTS
                .min(n / projection::ROWS_PER_COMPONENT)
                .max(2);
            reuse::Scaler::fit_projected(n, d, &*fill, components, GREY_FEATURES)
        } else {
            reuse::Scaler::fit(n, d, &*fill)
        }
    });
    let what = match &scaler.projection {
        Some(p) => format!(
            "{what} ({} components, {:.0}% of the variance)",
            p.outputs(),
            100.0 * p.explained.iter().sum::<f64>()
        ),
        None => what,
    };
    let x = scaler.apply(n, &*fill);
    drop(fill);
    Ok((rows, x, scaler.outputs(), what, Some(scaler)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::perceptual::{SHAPE_DIMS, SMALL_PIXELS, SMALL_SIDE};
    use proptest::prelude::*;

    /// The features as first written: f64 means of each 2×2 block and sequential
    /// f64 sums for the mean and the deviation.
    fn sequential(pixels: &[u8; SMALL_PIXELS], shape: &[u8; SHAPE_DIMS]) -> Vec<f64> {
        let mut out = vec![0f64; IMAGE_FEATURES];
        let (grey, rest) = out.split_at_mut(GREY_FEATURES);
        for (k, g) in grey.iter_mut().enumerate() {
            let (y, x) = (k / CNN_SIDE * 2, k % CNN_SIDE * 2);
            let at = |y: usize, x: usize| pixels[y * SMALL_SIDE + x] as u16;
            *g = (at(y, x) + at(y, x + 1) + at(y + 1, x) + at(y + 1, x + 1)) as f64 / 4.0;
        }
        let mean = grey.iter().sum::<f64>() / GREY_FEATURES as f64;
        let sd =
            (grey.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / GREY_FEATURES as f64).sqrt();
        for g in grey.iter_mut() {
            *g = if sd > 0.0 { (*g - mean) / sd } else { 0.0 };
        }
        for (r, &v) in rest.iter_mut().zip(shape) {
            *r = v as f64;
        }
        out
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    fn same_as_sequential(pixels: &[u8; SMALL_PIXELS], shape: &[u8; SHAPE_DIMS]) {
        let mut got = vec![0f64; IMAGE_FEATURES];
        image_features(&mut got, pixels, shape);
        assert_eq!(bits(&got), bits(&sequential(pixels, shape)));
        let mut halves = vec![0f64; GREY_FEATURES];
        halved(pixels, &mut halves);
        let mut want = vec![0f64; GREY_FEATURES];
        for (k, w) in want.iter_mut().enumerate() {
            let (y, x) = (k / CNN_SIDE * 2, k % CNN_SIDE * 2);
            let at = |y: usize, x: usize| pixels[y * SMALL_SIDE + x] as u16;
            *w = (at(y, x) + at(y, x + 1) + at(y + 1, x) + at(y + 1, x + 1)) as f64 / 4.0;
        }
        assert_eq!(bits(&halves), bits(&want));
    }

    #[test]
    fn extremes_give_the_sequential_sums_bit_for_bit() {
        let shape = [3u8; SHAPE_DIMS];
        for fill in [0u8, 1, 128, 255] {
            same_as_sequential(&[fill; SMALL_PIXELS], &shape);
        }
        let mut one = [0u8; SMALL_PIXELS];
        one[SMALL_PIXELS - 1] = 255;
        same_as_sequential(&one, &shape);
        let checker: [u8; SMALL_PIXELS] = std::array::from_fn(|i| {
            if (i / SMALL_SIDE + i % SMALL_SIDE).is_multiple_of(2) {
                255
            } else {
                0
            }
        });
        same_as_sequential(&checker, &shape);
        let halves: [u8; SMALL_PIXELS] =
            std::array::from_fn(|i| if i < SMALL_PIXELS / 2 { 255 } else { 0 });
        same_as_sequential(&halves, &shape);
    }

    proptest! {
        #[test]
        fn any_picture_gives_the_sequential_sums_bit_for_bit(
            pixels in proptest::collection::vec(any::<u8>(), SMALL_PIXELS),
            low in 0u8..=255,
            spread in 0u8..=255,
            shape in proptest::collection::vec(any::<u8>(), SHAPE_DIMS),
        ) {
            // Narrow ranges too: near-flat pictures have the smallest deviations.
            let pixels: [u8; SMALL_PIXELS] = std::array::from_fn(|i| {
                low.saturating_add(pixels[i] % spread.max(1))
            });
            let shape: [u8; SHAPE_DIMS] = shape.try_into().unwrap();
            same_as_sequential(&pixels, &shape);
        }
    }
}
