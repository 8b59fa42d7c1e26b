//! A table already in memory (the Python package's `scan_frame`): no files, so no
//! format finds it in a survey; `load::open_frame` makes its spec.

use super::{Layout, Writer};
use crate::load::{DatasetSpec, Loaded, Recall};
use anyhow::Result;
use polars::prelude::DataFrame;
use std::path::PathBuf;

/// The table and the name it goes by in the report and the manifest.
pub struct Frame {
    pub name: String,
    pub df: DataFrame,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({}, {} rows)", self.name, self.df.height())
    }
}

impl Layout for Frame {
    fn name(&self) -> &'static str {
        "table (in memory)"
    }

    fn is_image(&self) -> bool {
        false
    }

    fn load(&self, spec: &DatasetSpec, _: bool, _: Option<&dyn Recall>) -> Result<Loaded> {
        crate::load::table::load_frame(spec, &self.name, self.df.clone())
    }

    fn empty(&self) -> &'static str {
        "the table has no rows"
    }

    fn inputs(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    fn writer(&self) -> Writer<'_> {
        // Nothing to copy rows from: the builds read files.
        Writer::Tables(&[])
    }
}
