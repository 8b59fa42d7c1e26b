//! A table part's float columns of decimal values, stored small and exactly.
//!
//! A number read from a CSV file's text (`-0.68441`) is the nearest `f64` to a
//! decimal of a few digits: 21 bits of information in 64 bits that look random, so
//! neither Arrow IPC nor zstd makes it smaller (a part was 169 bytes per row of
//! 19 such numbers). Such a column is stored as the integers `round(v × 10^d)` for
//! the fewest digits `d` that give back every value to the bit, less their least,
//! in as many bytes as the largest needs, byte plane after byte plane (each plane's
//! bytes alike, as Parquet's BYTE_STREAM_SPLIT lays them out), and zstd-compressed.
//! A column that no `d` gives back exactly (NaN, infinities, -0.0, values of full
//! precision) is left to the Arrow IPC file with the other columns.

use anyhow::{bail, Result};
use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::Bitmap;
use serde::{Deserialize, Serialize};

/// 10^d for the digits tried, each exact in an `f64`.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Integers up to this size are exact in an `f64`.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// zstd's level: 3 (its default) packs within 1% of level 9 here, at a quarter of
/// the time.
const LEVEL: i32 = 3;

/// One float column of decimal values.
#[derive(Serialize, Deserialize)]
pub struct Packed {
    /// Its place among the frame's columns, and its name.
    at: u32,
    name: String,
    /// Decimal digits: each value is `(min + offset) / 10^digits`.
    digits: u8,
    min: i64,
    /// Bytes per offset (0: every value is `min`).
    width: u8,
    /// The column's chunks' lengths, as runs of (length, chunks of that length): the
    /// merge computes a whole block's statistics chunk by chunk, as the scan did, to
    /// the last bit.
    chunks: Vec<(u64, u64)>,
    /// Which rows have a value, one bit each (none: every row).
    #[serde(with = "serde_bytes")]
    valid: Option<Vec<u8>>,
    /// The offsets' byte planes, zstd-compressed with a checksum.
    #[serde(with = "serde_bytes")]
    planes: Vec<u8>,
}

/// `df` with its decimal float columns taken out, and those columns packed.
pub fn pack(df: &DataFrame) -> Result<(DataFrame, Vec<Packed>)> {
    use rayon::prelude::*;
    let packed: Vec<Option<Packed>> = df
        .columns()
        .par_iter()
        .enumerate()
        .map(|(at, c)| match c.dtype() {
            DataType::Float64 => pack_column(at as u32, c.as_materialized_series().f64()?),
            _ => Ok(None),
        })
        .collect::<Result<_>>()?;
    let packed: Vec<Packed> = packed.into_iter().flatten().collect();
    let rest = df.drop_many(packed.iter().map(|p| p.name.as_str()));
    Ok((rest, packed))
}

/// The frame `pack` was given, from what it returned (`rows`: the frame's height).
/// Damaged input is an error, never a panic or an allocation its bytes cannot fill.
pub fn unpack(rest: DataFrame, packed: Vec<Packed>, rows: usize) -> Result<DataFrame> {
    use rayon::prelude::*;
    if rest.width() > 0 && rest.height() != rows {
        bail!("{} rows in its other columns for {rows}", rest.height());
    }
    let width = rest.width() + packed.len();
    let mut placed: Vec<(usize, Column)> = packed
        .into_par_iter()
        .map(|p| Ok((p.at as usize, unpack_column(p, rows)?)))
        .collect::<Result<_>>()?;
    placed.sort_by_key(|(at, _)| *at);
    let mut columns: Vec<Column> = Vec::with_capacity(width);
    let mut others = rest.columns().to_vec().into_iter();
    let mut placed = placed.into_iter().peekable();
    for at in 0..width {
        match placed.peek() {
            Some((p, _)) if *p == at => columns.push(placed.next().unwrap().1),
            _ => match others.next() {
                Some(c) => columns.push(c),
                None => bail!("no column {at}"),
            },
        }
    }
    if placed.next().is_some() {
        bail!("a packed column past the last");
    }
    Ok(DataFrame::new(rows, columns)?)
}

/// `bytes` zstd-compressed, with a checksum that finds damage before they are read.
pub fn compressed(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut z = zstd::bulk::Compressor::new(LEVEL)?;
    z.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
    Ok(z.compress(bytes)?)
}

/// What `compressed` made, up to `limit` bytes: memory grows with what the frame
/// gives, not with a length it states.
pub fn decompressed(frame: &[u8], limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    zstd::stream::read::Decoder::with_buffer(frame)?
        .take(limit)
        .read_to_end(&mut out)?;
    Ok(out)
}

fn pack_column(at: u32, ca: &Float64Chunked) -> Result<Option<Packed>> {
    let Some(digits) = digits_of(ca) else {
        return Ok(None);
    };
    let p = POW10[digits as usize];
    let ints: Vec<Option<i64>> = ca
        .iter()
        .map(|v| v.map(|v| (v * p).round() as i64))
        .collect();
    let min = ints.iter().flatten().copied().min().unwrap_or(0);
    let offsets: Vec<u64> = ints
        .iter()
        .map(|i| i.map_or(0, |i| i.wrapping_sub(min) as u64))
        .collect();
    let max = offsets.iter().copied().max().unwrap_or(0);
    let width = (64 - max.leading_zeros()).div_ceil(8) as usize;
    let n = offsets.len();
    let mut planes = vec![0u8; n * width];
    for (j, plane) in planes.chunks_exact_mut(n.max(1)).enumerate().take(width) {
        for (b, o) in plane.iter_mut().zip(&offsets) {
            *b = (o >> (8 * j)) as u8;
        }
    }
    let valid = (ca.null_count() > 0).then(|| {
        let mut bits = vec![0u8; n.div_ceil(8)];
        for (i, v) in ints.iter().enumerate() {
            if v.is_some() {
                bits[i / 8] |= 1 << (i % 8);
            }
        }
        bits
    });
    Ok(Some(Packed {
        at,
        name: ca.name().to_string(),
        digits,
        min,
        width: width as u8,
        chunks: runs(ca.chunks().iter().map(|a| a.len() as u64)),
        valid,
        planes: compressed(&planes)?,
    }))
}

fn runs(lengths: impl Iterator<Item = u64>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for len in lengths {
        match out.last_mut() {
            Some((l, n)) if *l == len => *n += 1,
            _ => out.push((len, 1)),
        }
    }
    out
}

/// The fewest digits that give back every value of `ca` exactly, if any do.
fn digits_of(ca: &Float64Chunked) -> Option<u8> {
    (0..POW10.len() as u8).find(|&d| {
        let p = POW10[d as usize];
        ca.iter().flatten().all(|v| {
            let s = (v * p).round();
            s.abs() < EXACT && ((s as i64) as f64 / p).to_bits() == v.to_bits()
        })
    })
}

fn unpack_column(p: Packed, rows: usize) -> Result<Column> {
    let name = &p.name;
    if p.digits as usize >= POW10.len() || p.width > 8 {
        bail!("column '{name}': {} digits in {} bytes", p.digits, p.width);
    }
    let held = p
        .chunks
        .iter()
        .try_fold(0u64, |a, &(len, n)| a.checked_add(len.checked_mul(n)?));
    if held != Some(rows as u64) {
        bail!("column '{name}': its chunks do not hold its {rows} rows");
    }
    let width = p.width as usize;
    let Some(want) = rows.checked_mul(width) else {
        bail!("column '{name}': {rows} rows of {width} bytes");
    };
    // Read no more than the rows can hold: a damaged length allocates nothing.
    let planes = match want {
        0 => Vec::new(),
        _ => match decompressed(&p.planes, want as u64) {
            Ok(planes) => planes,
            Err(e) => bail!("column '{name}': its values do not read: {e}"),
        },
    };
    if planes.len() != want {
        bail!(
            "column '{name}': {} bytes of values for {rows} rows",
            planes.len()
        );
    }
    let valid = match &p.valid {
        Some(bits) if bits.len() != rows.div_ceil(8) => {
            bail!(
                "column '{name}': {} bytes of validity for {rows} rows",
                bits.len()
            )
        }
        Some(bits) => Some(Bitmap::try_new(bits.clone(), rows)?),
        None => None,
    };
    let scale = POW10[p.digits as usize];
    let values: Vec<f64> = (0..rows)
        .map(|i| {
            let offset = (0..width).fold(0u64, |o, j| o | (planes[j * rows + i] as u64) << (8 * j));
            (p.min.wrapping_add(offset as i64)) as f64 / scale
        })
        .collect();
    let mut from = 0usize;
    let lengths = p
        .chunks
        .iter()
        .flat_map(|&(len, n)| std::iter::repeat_n(len as usize, n as usize));
    let arrays = lengths.map(|len| {
        let slice = values[from..from + len].to_vec();
        let bits = valid.as_ref().map(|b| b.clone().sliced(from, len));
        from += len;
        PrimitiveArray::<f64>::new(ArrowDataType::Float64, slice.into(), bits)
    });
    let ca = Float64Chunked::from_chunk_iter(name.as_str().into(), arrays);
    Ok(ca.into_series().into_column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits(df: &DataFrame) -> Vec<Vec<Option<u64>>> {
        df.columns()
            .iter()
            .map(|c| match c.dtype() {
                DataType::Float64 => c
                    .f64()
                    .unwrap()
                    .iter()
                    .map(|v| v.map(f64::to_bits))
                    .collect(),
                _ => c
                    .as_materialized_series()
                    .iter()
                    .map(|v| Some(xxhash_rust::xxh3::xxh3_64(v.to_string().as_bytes())))
                    .collect(),
            })
            .collect()
    }

    fn chunked(name: &str, values: &[Option<f64>], cuts: &[usize]) -> Column {
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (values.len() + 1)).collect();
        bounds.extend([0, values.len()]);
        bounds.sort_unstable();
        bounds.dedup();
        let arrays = bounds
            .windows(2)
            .map(|w| PrimitiveArray::<f64>::from(values[w[0]..w[1]].to_vec()));
        Float64Chunked::from_chunk_iter(name.into(), arrays)
            .into_series()
            .into_column()
    }

    fn round_trip(df: &DataFrame) -> (DataFrame, usize) {
        let (rest, packed) = pack(df).unwrap();
        let n = packed.len();
        (unpack(rest, packed, df.height()).unwrap(), n)
    }

    fn value() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            (-2_000_000i64..2_000_000, 0usize..7).prop_map(|(i, d)| Some(i as f64 / POW10[d])),
            any::<f64>().prop_map(Some),
            Just(None),
            Just(Some(-0.0)),
            Just(Some(f64::NAN)),
            Just(Some(f64::INFINITY)),
            Just(Some(1e300)),
        ]
    }

    proptest! {
        /// Whatever the values (decimals of any digits, full precision, NaN, -0.0,
        /// missing) and the chunks, a frame comes back bit for bit, chunk for chunk.
        #[test]
        fn any_frame_comes_back_to_the_bit(
            a in proptest::collection::vec(value(), 0..300),
            decimal in proptest::collection::vec((-30_000i64..30_000).prop_map(|i| Some(i as f64 / 1e3)), 300),
            cuts in proptest::collection::vec(0usize..400, 0..4),
        ) {
            let n = a.len();
            let df = DataFrame::new(n, vec![
                Column::new("tag".into(), (0..n as i64).collect::<Vec<_>>()),
                chunked("a", &a, &cuts),
                chunked("d", &decimal[..n], &cuts),
            ]).unwrap();
            let (back, packed) = round_trip(&df);
            prop_assert!(packed >= 1, "the decimal column is packed");
            prop_assert_eq!(bits(&back), bits(&df));
            prop_assert_eq!(back.get_column_names(), df.get_column_names());
            for (x, y) in back.columns().iter().zip(df.columns()) {
                let lens = |c: &Column| c.as_materialized_series().chunk_lengths().collect::<Vec<_>>();
                prop_assert_eq!(lens(x), lens(y));
            }
        }
    }

    #[test]
    fn decimals_of_a_few_digits_are_packed_what_is_not_stays() {
        let df = df!(
            "price" => [1.25, -3.5, 1e6, 0.0],
            "noise" => [0.1f64.sqrt(), 1.0, 2.0, 3.0],
            "signed_zero" => [-0.0, 1.0, 2.0, 3.0],
            "nan" => [f64::NAN, 1.0, 2.0, 3.0],
            "missing" => [Some(0.5), None, None, Some(7.0)],
            "constant" => [2.0, 2.0, 2.0, 2.0],
            "word" => ["a", "b", "c", "d"]
        )
        .unwrap();
        let (rest, packed) = pack(&df).unwrap();
        let names: Vec<(&str, u8, u8)> = packed
            .iter()
            .map(|p| (p.name.as_str(), p.digits, p.width))
            .collect();
        assert_eq!(
            names,
            [("price", 2, 4), ("missing", 1, 1), ("constant", 0, 0)]
        );
        assert_eq!(
            rest.get_column_names(),
            ["noise", "signed_zero", "nan", "word"]
        );
        let back = unpack(rest, packed, 4).unwrap();
        assert_eq!(bits(&back), bits(&df));
    }

    #[test]
    fn damaged_columns_are_errors() {
        let df = df!("x" => [1.5, 2.5, 3.5, 4.25]).unwrap();
        let damage = |f: &dyn Fn(&mut Packed)| {
            let (rest, mut packed) = pack(&df).unwrap();
            f(&mut packed[0]);
            unpack(rest, packed, 4).unwrap_err().to_string()
        };
        assert!(damage(&|p| p.width = 9).contains("digits in 9 bytes"));
        assert!(damage(&|p| p.chunks = vec![(3, 1)]).contains("chunks do not hold"));
        assert!(damage(&|p| p.chunks = vec![(1 << 62, 8)]).contains("chunks do not hold"));
        assert!(damage(&|p| p.planes.truncate(5)).contains("do not read"));
        assert!(damage(&|p| p.width = 3).contains("bytes of values for 4 rows"));
        assert!(damage(&|p| p.valid = Some(vec![0; 3])).contains("bytes of validity"));
        let (rest, packed) = pack(&df).unwrap();
        let e = unpack(rest, packed, 1 << 40).unwrap_err().to_string();
        assert!(e.contains("chunks do not hold"), "{e}");
    }
}
