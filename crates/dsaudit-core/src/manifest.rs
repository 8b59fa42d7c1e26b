//! The manifest: one polars row per sample, the single description every check reads.
//!
//! Columns (documented in docs/json-schema.md as well):
//! id u64, split str?, label str?, source str, row u64?, bytes u64?, file_blake3 str?,
//! pixel_blake3 str?, format str?, ext_format str?, width u32?, height u32?,
//! channels u8?, bit_depth u8?, mode str?, error_kind str?, error str?, phash u64?,
//! dhash u64?, the pixel statistics (f64?), and dup_cluster u32? once duplicates are found.

use crate::finding::SampleRef;
use crate::load::image::ImageInfo;
use crate::load::pixel_stats::PixelStats;
use anyhow::{Context, Result};
use polars::prelude::*;
use std::path::Path;

pub const STRING_COLUMNS: &[&str] = &[
    "split",
    "label",
    "source",
    "file_blake3",
    "pixel_blake3",
    "format",
    "ext_format",
    "mode",
    "error_kind",
    "error",
];

type PixelGetter = fn(&PixelStats) -> Option<f64>;

/// Per-image pixel statistics as manifest columns (0–1 units except `sharpness`).
pub const PIXEL_COLUMNS: &[(&str, PixelGetter)] = &[
    ("mean_r", |p| Some(p.mean[0])),
    ("mean_g", |p| Some(p.mean[1])),
    ("mean_b", |p| Some(p.mean[2])),
    ("std_r", |p| Some(p.std[0])),
    ("std_g", |p| Some(p.std[1])),
    ("std_b", |p| Some(p.std[2])),
    ("brightness", |p| Some(p.brightness)),
    ("brightness_p5", |p| Some(p.brightness_p5)),
    ("brightness_p99", |p| Some(p.brightness_p99)),
    ("contrast", |p| Some(p.contrast)),
    ("dynamic_range", |p| Some(p.dynamic_range)),
    ("max_value", |p| Some(p.max_value)),
    ("entropy", |p| Some(p.entropy)),
    ("sharpness", |p| p.sharpness),
];

/// One image sample before it becomes a manifest row.
#[derive(Debug, Clone)]
pub struct ImageSample {
    pub split: Option<String>,
    pub label: Option<String>,
    pub source: String,
    pub row: Option<u64>,
    pub info: ImageInfo,
}

/// A block of table rows sharing one source file.
pub struct TablePart {
    pub source: String,
    pub split: Column,
    pub label: Column,
    /// The sample id of the file's first row.
    pub first_id: u64,
    /// The file's row of each entry, when the part holds a sample of the file's rows
    /// (a table read in blocks); None: all of them, in order.
    pub picked: Option<Vec<u64>>,
}

pub struct Manifest {
    pub df: DataFrame,
}

impl Manifest {
    pub fn from_images(samples: &[ImageSample]) -> Result<Manifest> {
        let n = samples.len();
        // One column of each type, from each sample.
        let strs = |name: &str, f: &dyn Fn(&ImageSample) -> Option<String>| {
            Column::new(name.into(), samples.iter().map(f).collect::<Vec<_>>())
        };
        let u64s = |name: &str, f: &dyn Fn(&ImageSample) -> Option<u64>| {
            Column::new(name.into(), samples.iter().map(f).collect::<Vec<_>>())
        };
        let u32s = |name: &str, f: &dyn Fn(&ImageSample) -> Option<u32>| {
            Column::new(name.into(), samples.iter().map(f).collect::<Vec<_>>())
        };
        let u8s = |name: &str, f: &dyn Fn(&ImageSample) -> Option<u8>| {
            Column::new(name.into(), samples.iter().map(f).collect::<Vec<_>>())
        };
        let info = |f: fn(&ImageInfo) -> Option<&'static str>| {
            move |x: &ImageSample| f(&x.info).map(str::to_string)
        };
        let mut columns = vec![
            Column::new("id".into(), (0..n as u64).collect::<Vec<u64>>()),
            strs("split", &|x| x.split.clone()),
            strs("label", &|x| x.label.clone()),
            Column::new(
                "source".into(),
                samples.iter().map(|x| x.source.clone()).collect::<Vec<_>>(),
            ),
            u64s("row", &|x| x.row),
            u64s("bytes", &|x| x.info.bytes),
            strs("file_blake3", &|x| x.info.file_blake3.map(hex)),
            strs("pixel_blake3", &|x| x.info.pixel_blake3.map(hex)),
            strs("format", &info(|i| i.format)),
            strs("ext_format", &info(|i| i.ext_format)),
            u32s("width", &|x| x.info.width),
            u32s("height", &|x| x.info.height),
            u8s("channels", &|x| x.info.channels),
            u8s("bit_depth", &|x| x.info.bit_depth),
            strs("mode", &info(|i| i.mode)),
            strs("error_kind", &info(|i| i.error_kind.map(|k| k.as_str()))),
            strs("error", &|x| x.info.error.clone()),
            u64s("phash", &|x| x.info.hashes.map(|h| h.phash)),
            u64s("dhash", &|x| x.info.hashes.map(|h| h.dhash)),
        ];
        for (name, get) in PIXEL_COLUMNS {
            columns.push(Column::new(
                (*name).into(),
                samples
                    .iter()
                    .map(|x| x.info.pixels.as_ref().and_then(get))
                    .collect::<Vec<Option<f64>>>(),
            ));
        }
        Ok(Manifest {
            df: DataFrame::new(n, columns)?,
        })
    }

    pub fn from_table_parts(parts: Vec<TablePart>) -> Result<Manifest> {
        let n: usize = parts.iter().map(|p| p.split.len()).sum();
        let mut split = Vec::with_capacity(parts.len());
        let mut label = Vec::with_capacity(parts.len());
        let mut source: Vec<Column> = Vec::with_capacity(parts.len());
        let mut row: Vec<Column> = Vec::with_capacity(parts.len());
        let mut ids: Vec<u64> = Vec::with_capacity(n);
        for p in parts {
            let h = p.split.len();
            let rows: Vec<u64> = match p.picked {
                Some(rows) => rows,
                None => (0..h as u64).collect(),
            };
            ids.extend(rows.iter().map(|r| p.first_id + r));
            source.push(Column::new_scalar(
                "source".into(),
                Scalar::from(PlSmallStr::from(p.source.as_str())),
                h,
            ));
            row.push(Column::new("row".into(), rows));
            split.push(p.split.with_name("split".into()));
            label.push(p.label.with_name("label".into()));
        }
        let concat = |parts: Vec<Column>, name: &str, dtype: DataType| -> Result<Column> {
            let mut it = parts.into_iter();
            let mut acc = match it.next() {
                Some(c) => c.cast(&dtype)?.as_materialized_series().clone(),
                None => Series::new_empty(name.into(), &dtype),
            };
            for c in it {
                acc.append(&c.cast(&dtype)?.as_materialized_series().clone())?;
            }
            Ok(acc.rechunk().into_column())
        };
        // Each column is a copy of a million values on one core: side by side.
        type Build = Box<dyn FnOnce() -> Result<Column> + Send>;
        let builds: Vec<Build> = vec![
            Box::new(move || Ok(Column::new("id".into(), ids))),
            Box::new(move || concat(split, "split", DataType::String)),
            Box::new(move || concat(label, "label", DataType::String)),
            Box::new(move || concat(source, "source", DataType::String)),
            Box::new(move || concat(row, "row", DataType::UInt64)),
        ];
        use rayon::prelude::*;
        let mut columns = builds
            .into_par_iter()
            .map(|build| build())
            .collect::<Result<Vec<Column>>>()?;
        for (name, dtype) in [
            ("bytes", DataType::UInt64),
            ("file_blake3", DataType::String),
            ("pixel_blake3", DataType::String),
            ("format", DataType::String),
            ("ext_format", DataType::String),
            ("width", DataType::UInt32),
            ("height", DataType::UInt32),
            ("channels", DataType::UInt8),
            ("bit_depth", DataType::UInt8),
            ("mode", DataType::String),
            ("error_kind", DataType::String),
            ("error", DataType::String),
            ("phash", DataType::UInt64),
            ("dhash", DataType::UInt64),
        ]
        .into_iter()
        .chain(PIXEL_COLUMNS.iter().map(|(n, _)| (*n, DataType::Float64)))
        {
            columns.push(Column::full_null(name.into(), n, &dtype));
        }
        Ok(Manifest {
            df: DataFrame::new(n, columns)?,
        })
    }

    pub fn len(&self) -> usize {
        self.df.height()
    }

    pub fn is_empty(&self) -> bool {
        self.df.height() == 0
    }

    pub fn f64s(&self, name: &str) -> &Float64Chunked {
        self.df
            .column(name)
            .and_then(|c| c.f64())
            .expect("manifest float column")
    }

    pub fn u32s(&self, name: &str) -> &UInt32Chunked {
        self.df
            .column(name)
            .and_then(|c| c.u32())
            .expect("manifest u32 column")
    }

    pub fn u8s(&self, name: &str) -> &UInt8Chunked {
        self.df
            .column(name)
            .and_then(|c| c.u8())
            .expect("manifest u8 column")
    }

    pub fn u64s(&self, name: &str) -> &UInt64Chunked {
        self.df
            .column(name)
            .and_then(|c| c.u64())
            .expect("manifest u64 column")
    }

    pub fn strs(&self, name: &str) -> &StringChunked {
        self.df
            .column(name)
            .and_then(|c| c.str())
            .expect("manifest string column")
    }

    pub fn sample_ref(&self, i: usize) -> SampleRef {
        let row = self
            .df
            .column("row")
            .and_then(|c| c.u64())
            .ok()
            .and_then(|c| c.get(i));
        SampleRef {
            id: i as u64,
            source: self.strs("source").get(i).unwrap_or("").to_string(),
            row,
            note: None,
        }
    }

    /// Writes Parquet or CSV by extension, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let ext = crate::discover::ext_of(path);
        let mut df = self.df.clone();
        crate::output::write_atomic(path, |file| {
            match ext.as_str() {
                "parquet" | "pq" => {
                    ParquetWriter::new(file).finish(&mut df)?;
                }
                "csv" => {
                    CsvWriter::new(file).include_header(true).finish(&mut df)?;
                }
                other => {
                    anyhow::bail!("unsupported manifest extension '.{other}': use .parquet or .csv")
                }
            }
            Ok(())
        })
        .with_context(|| format!("{}: cannot write manifest", path.display()))
    }
}

fn hex(h: blake3::Hash) -> String {
    h.to_hex().to_string()
}
