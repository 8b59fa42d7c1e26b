//! Writing a Hugging Face Parquet dataset again: one shard per output split,
//! `OUT/data/<split>-00000-of-00001.parquet`, holding the input rows (image bytes and
//! every other column, copied, never re-encoded) in manifest order, with copies and
//! new labels applied, the input's `huggingface` metadata (its class names) kept, and
//! row groups sized to stay under the Hub viewer's limit.

use super::tables::Placed;
use super::{Action, Plan, Samples};
use anyhow::{bail, Context, Result};
use dsaudit_core::load::format::hf_parquet::Shards;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Row groups are cut to about this many bytes (the Hub's viewer refuses 300 MB).
const ROW_GROUP_BYTES: u64 = 100 << 20;

/// One output row: which plan row it is, and its input shard and row there.
struct Take {
    k: usize,
    shard: usize,
    row: IdxSize,
    relabel: Option<String>,
}

pub fn write(
    s: &Samples,
    plan: &Plan,
    order: &[usize],
    layout: &Shards,
    dir: &Path,
    placed: &mut Placed,
) -> Result<Vec<String>> {
    let by_rel: HashMap<&str, usize> = layout
        .shards
        .iter()
        .enumerate()
        .map(|(i, sh)| (sh.rel.as_str(), i))
        .collect();
    let (sources, rows) = (
        s.loaded.manifest.strs("source"),
        s.loaded.manifest.u64s("row"),
    );
    // Output split → its rows, in manifest order.
    let mut splits: BTreeMap<(u8, String), Vec<Take>> = BTreeMap::new();
    for &k in order {
        let r = &plan.rows[k];
        if !r.action.is_output() {
            continue;
        }
        let source = sources.get(r.src as usize).unwrap_or("");
        let (Some(&shard), Some(row)) = (by_rel.get(source), rows.get(r.src as usize)) else {
            bail!("{source}: a sample that is not a row of a shard cannot be written");
        };
        let split = r
            .split
            .map_or("all".to_string(), |sp| plan.splits[sp as usize].clone());
        let relabel = match &r.action {
            Action::Relabeled { to } => Some(to.clone()),
            _ => None,
        };
        splits
            .entry((dsaudit_core::util::split_order(&split).0, split))
            .or_default()
            .push(Take {
                k,
                shard,
                row: row as IdxSize,
                relabel,
            });
    }
    let label = dsaudit_core::load::hf_parquet::label_column(s.spec, &layout.columns);
    let first = layout.shards.first().context("no shard")?;
    let footer = dsaudit_core::table_io::parquet_footer(&first.path)?;
    let metadata = footer.key_value_metadata.as_ref().and_then(|kv| {
        let hf = kv.iter().find(|k| k.key == "huggingface")?;
        Some(KeyValueMetadata::from_static(vec![(
            hf.key.clone(),
            hf.value.clone()?,
        )]))
    });
    let (bytes, n): (i64, i64) = footer.row_groups.iter().fold((0, 0), |(b, n), g| {
        (b + g.total_byte_size.max(0), n + g.num_rows.max(0))
    });
    let per_row = (bytes.max(1) as u64 / n.max(1) as u64).max(1);
    let group_rows = (ROW_GROUP_BYTES / per_row).max(1) as usize;
    std::fs::create_dir_all(dir.join("data"))?;
    let mut files = Vec::new();
    let mut writers = Vec::new();
    // Each shard is read once: the first one's table gives the schema and waits for
    // its turn in the loop below.
    let mut first_table = Some(read(&first.path)?);
    let schema = first_table
        .as_ref()
        .expect("read")
        .schema()
        .as_ref()
        .clone();
    for ((_, split), takes) in &splits {
        let name = format!("data/{split}-00000-of-00001.parquet");
        let file = std::fs::File::create(dir.join(&name))
            .with_context(|| format!("{name}: cannot create"))?;
        let writer = ParquetWriter::new(std::io::BufWriter::new(file))
            .with_row_group_size(Some(group_rows))
            .with_key_value_metadata(metadata.clone())
            .batched(&schema)?;
        let index = placed.add(name.clone());
        for (pos, t) in takes.iter().enumerate() {
            placed.file[t.k] = index;
            placed.row[t.k] = Some(pos as u64);
        }
        files.push(name);
        writers.push(writer);
    }
    // Each input shard is read once; its rows go to every split that takes some, in
    // order (a split's rows are in input order, so shard by shard keeps it).
    for (i, shard) in layout.shards.iter().enumerate() {
        let wanted = splits.values().any(|t| t.iter().any(|t| t.shard == i));
        if !wanted {
            continue;
        }
        let df = match (i, first_table.take()) {
            (0, Some(df)) => df,
            _ => read(&shard.path)?,
        };
        for (w, takes) in splits.values().enumerate() {
            let mine: Vec<&Take> = takes.iter().filter(|t| t.shard == i).collect();
            if mine.is_empty() {
                continue;
            }
            let idx = IdxCa::from_vec("idx".into(), mine.iter().map(|t| t.row).collect());
            let mut part = df.take(&idx)?;
            if mine.iter().any(|t| t.relabel.is_some()) {
                relabel(&mut part, &mine, label.as_ref())?;
            }
            let part = part.select(schema.iter_names().cloned()).map_err(|_| {
                anyhow::anyhow!("{}: its columns differ from the first shard's", shard.rel)
            })?;
            writers[w].write_batch(&part)?;
        }
    }
    for w in &writers {
        w.finish()?;
    }
    Ok(files)
}

fn read(path: &Path) -> Result<DataFrame> {
    dsaudit_core::table_io::read(path, None)
}

/// Writes the new labels of relabeled rows into the label column: a class id for an
/// integer `ClassLabel` column, the name for a text column.
fn relabel(
    part: &mut DataFrame,
    takes: &[&Take],
    label: Option<&(String, Vec<String>)>,
) -> Result<()> {
    let Some((name, names)) = label else {
        bail!("rows were relabeled but the dataset has no label column");
    };
    let column = part.column(name)?.clone();
    let new: Column = if column.dtype().is_integer() {
        let ids = column.cast(&DataType::Int64)?;
        let ids = ids.i64()?;
        let values: Vec<Option<i64>> = takes
            .iter()
            .zip(ids.iter())
            .map(|(t, old)| match &t.relabel {
                Some(to) => names
                    .iter()
                    .position(|n| n == to)
                    .map(|p| p as i64)
                    .or_else(|| to.parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("class '{to}' has no id in the ClassLabel")),
                None => Ok(old.unwrap_or(-1)),
            })
            .map(|v| v.map(Some))
            .collect::<Result<_>>()?;
        Column::new(name.as_str().into(), values).cast(column.dtype())?
    } else {
        let text = column.cast(&DataType::String)?;
        let text = text.str()?;
        let values: Vec<Option<String>> = takes
            .iter()
            .zip(text.iter())
            .map(|(t, old)| t.relabel.clone().or(old.map(str::to_string)))
            .collect();
        Column::new(name.as_str().into(), values).cast(column.dtype())?
    };
    part.with_column(new)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(relabel: Option<&str>) -> Take {
        Take {
            k: 0,
            shard: 0,
            row: 0,
            relabel: relabel.map(str::to_string),
        }
    }

    #[test]
    fn relabels_write_the_class_id_or_the_name() {
        let names = vec!["cat".to_string(), "dog".to_string()];
        let takes = [take(None), take(Some("dog")), take(Some("cat"))];
        let refs: Vec<&Take> = takes.iter().collect();
        let mut ids = df!("label" => [0i64, 0, 1]).unwrap();
        relabel(&mut ids, &refs, Some(&("label".into(), names.clone()))).unwrap();
        let got: Vec<Option<i64>> = ids.column("label").unwrap().i64().unwrap().iter().collect();
        assert_eq!(got, [Some(0), Some(1), Some(0)]);
        let mut text = df!("label" => ["cat", "cat", "dog"]).unwrap();
        relabel(&mut text, &refs, Some(&("label".into(), Vec::new()))).unwrap();
        let got: Vec<Option<&str>> = text
            .column("label")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(got, [Some("cat"), Some("dog"), Some("cat")]);
        let unknown = [take(Some("bird"))];
        let refs: Vec<&Take> = unknown.iter().collect();
        let mut one = df!("label" => [0i64]).unwrap();
        let err = relabel(&mut one, &refs, Some(&("label".into(), names))).unwrap_err();
        assert!(err.to_string().contains("class 'bird' has no id"), "{err}");
    }
}
