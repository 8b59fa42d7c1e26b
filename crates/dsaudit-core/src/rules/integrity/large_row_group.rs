use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta, Threshold};

pub struct LargeRowGroup;

pub const META: RuleMeta = RuleMeta {
    code: "I016",
    name: "large-row-group",
    severity: Severity::Warning,
    summary: "A Parquet shard holds a row group too large for the Hugging Face dataset viewer.",
    doc: "**What it finds.** Row groups of Hugging Face Parquet shards whose uncompressed size (the `total_byte_size` the footer records) is over `max-mb` megabytes.\n\n\
             **Why it matters.** The Hub's dataset viewer reads a shard one row group at a time and refuses row groups over 300 MB, so the dataset shows no preview and its statistics are not computed; readers that stream by row group (`datasets` in streaming mode, DuckDB, Spark) hold a whole row group in memory. Images stored inline make row groups large quickly.\n\n\
             **Example.** `data/train-00000-of-00004.parquet: row group 0 holds 412.5 MB uncompressed (over 300 MB)`.",
    thresholds: &[Threshold {
        key: "max-mb",
        default: 300.0,
        doc: "largest uncompressed row group, in megabytes (10^6 bytes)",
    }],
    fix: "Rewrite the shard with smaller row groups: pyarrow's `pq.write_table(..., row_group_size=N)`, or `Dataset.push_to_hub(...)` / `to_parquet(...)` with a smaller batch size, so each group stays well under the limit.",
};

impl Rule for LargeRowGroup {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let max_mb = ctx.threshold(self, "max-mb");
        ctx.loaded
            .row_groups
            .iter()
            .filter(|g| g.bytes as f64 > max_mb * 1e6)
            .map(|g| {
                Finding::new(
                    self.meta(),
                    format!(
                        "{}: row group {} holds {:.1} MB uncompressed (over {max_mb} MB)",
                        g.source,
                        g.index,
                        g.bytes as f64 / 1e6
                    ),
                )
                .evidence("source", g.source.clone())
                .evidence("row_group", g.index as u64)
                .evidence("bytes", g.bytes)
            })
            .collect()
    }
}
