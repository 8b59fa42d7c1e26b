//! Writing a NumPy dataset: `X_<split>.npy` and `y_<split>.npy` per output split, rows
//! copied byte for byte from the inputs (any dtype, any trailing shape), with the
//! header's leading dimension rewritten.

use super::{Action, Plan, Samples};
use anyhow::{anyhow, bail, Context, Result};
use dsaudit_core::load::Writer;
use std::path::Path;

/// A parsed .npy file: its header dict and where its data starts.
struct Npy {
    header: String,
    shape: Vec<u64>,
    data: Vec<u8>,
    row_bytes: usize,
}

fn parse(path: &Path) -> Result<Npy> {
    let shown = path.display();
    // An array the scan streamed; read whole here, so never a FIFO or a device.
    let bytes = dsaudit_core::safe_read::read_limited(path, u64::MAX)
        .map_err(|e| anyhow!("{shown}: {e}"))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("{shown}: not a .npy file");
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => bail!("{shown}: unsupported .npy version {v}"),
    };
    let header = std::str::from_utf8(bytes.get(start..start + len).context("truncated header")?)
        .map_err(|_| anyhow!("{shown}: the .npy header is not text"))?
        .trim_end()
        .to_string();
    let fortran = header.contains("'fortran_order': True");
    let descr = field(&header, "'descr':")
        .with_context(|| format!("{shown}: no descr in the .npy header"))?;
    let descr = descr.trim().trim_matches(|c| c == '\'' || c == '"');
    let digits: String = descr.chars().skip_while(|c| !c.is_ascii_digit()).collect();
    let size: usize = digits
        .parse()
        .map_err(|_| anyhow!("{shown}: dtype {descr} cannot be copied by rows"))?;
    let item = if descr.contains('U') { size * 4 } else { size };
    let shape_text = field(&header, "'shape':")
        .with_context(|| format!("{shown}: no shape in the .npy header"))?;
    let shape: Vec<u64> = shape_text
        .trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse::<u64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| anyhow!("{shown}: cannot read the shape {shape_text}"))?;
    let rows = *shape
        .first()
        .with_context(|| format!("{shown}: a 0-d array has no rows"))?;
    let row_bytes = item * shape[1..].iter().product::<u64>() as usize;
    let mut data = bytes[start + len..].to_vec();
    if (data.len() as u64) < rows * row_bytes as u64 {
        bail!(
            "{shown}: truncated: {} data bytes for {rows} rows of {row_bytes}",
            data.len()
        );
    }
    // Rows are copied byte for byte, so a Fortran-order array (a row's values
    // scattered down its columns) is rewritten in C order first, and says so.
    let header = if fortran {
        data = c_order(&data, &shape, item);
        header.replacen("'fortran_order': True", "'fortran_order': False", 1)
    } else {
        header
    };
    Ok(Npy {
        header,
        shape,
        data,
        row_bytes,
    })
}

/// The elements of a Fortran-order array of `shape` (`item` bytes each) in C order.
fn c_order(data: &[u8], shape: &[u64], item: usize) -> Vec<u8> {
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let n: usize = dims.iter().product();
    let mut out = Vec::with_capacity(n * item);
    let mut index = vec![0usize; dims.len()];
    for _ in 0..n {
        // The Fortran offset of the C-order multi-index: the first index runs fastest.
        let mut offset = 0;
        for (k, &i) in index.iter().enumerate().rev() {
            offset = offset * dims[k] + i;
        }
        out.extend_from_slice(&data[offset * item..(offset + 1) * item]);
        // The next C-order index: the last index runs fastest.
        for k in (0..dims.len()).rev() {
            index[k] += 1;
            if index[k] < dims[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}

/// The text of a header field's value, up to the next top-level comma or brace.
fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let rest = &header[header.find(key)? + key.len()..];
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

/// The same array header with `rows` leading rows, padded as the format asks.
fn header_bytes(npy: &Npy, rows: u64) -> Vec<u8> {
    let mut shape = npy.shape.clone();
    shape[0] = rows;
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let old = field(&npy.header, "'shape':").unwrap_or("");
    let dict = npy
        .header
        .replacen(&format!("'shape':{old}"), &format!("'shape': {}", tuple), 1);
    let mut text = dict.into_bytes();
    let (version, prefix) = if text.len() + 11 < 65_535 {
        (1u8, 10)
    } else {
        (2u8, 12)
    };
    while (prefix + text.len() + 1) % 64 != 0 {
        text.push(b' ');
    }
    text.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((text.len() as u16).to_le_bytes());
    } else {
        out.extend((text.len() as u32).to_le_bytes());
    }
    out.extend(text);
    out
}

pub fn write(
    s: &Samples,
    plan: &Plan,
    order: &[usize],
    dir: &Path,
) -> Result<(Vec<String>, super::tables::Placed)> {
    let Writer::Arrays(pairs) = s.spec.layout.writer() else {
        bail!("not a NumPy dataset");
    };
    if plan
        .rows
        .iter()
        .any(|r| matches!(r.action, Action::Relabeled { .. }))
    {
        bail!("--relabel cannot rewrite .npy labels; use --drop-label-issues");
    }
    // Every sample's array and row: ids run through the pairs in order.
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    let mut owner: Vec<(usize, u64)> = Vec::with_capacity(s.len());
    for (k, p) in pairs.iter().enumerate() {
        let x = parse(&p.x)?;
        owner.extend((0..x.shape[0]).map(|r| (k, r)));
        ys.push(p.y.as_deref().map(parse).transpose()?);
        xs.push(x);
    }
    if owner.len() != s.len() {
        bail!(
            "{}: the arrays changed while they were read",
            s.spec.input.display()
        );
    }
    let unsplit = pairs.len() == 1;
    let name_of = |path: &Path| {
        path.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let mut placement = super::tables::Placed::new(plan.rows.len());
    let mut files = Vec::new();
    let outputs: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&k| plan.rows[k].action.is_output())
        .collect();
    for group in outputs.chunk_by(|&a, &b| plan.rows[a].split == plan.rows[b].split) {
        let split = plan.rows[group[0]]
            .split
            .map(|sp| plan.splits[sp as usize].as_str());
        let (x_name, y_name) = match (split, unsplit) {
            (Some(sp), _) => (format!("X_{sp}.npy"), format!("y_{sp}.npy")),
            (None, true) => (
                name_of(&pairs[0].x),
                pairs[0].y.as_deref().map_or("y.npy".into(), name_of),
            ),
            (None, false) => ("X.npy".into(), "y.npy".into()),
        };
        for (arrays, name) in [
            (&xs.iter().map(Some).collect::<Vec<_>>(), &x_name),
            (&ys.iter().map(Option::as_ref).collect(), &y_name),
        ] {
            let Some(first) = arrays.iter().flatten().next() else {
                continue;
            };
            let mut bytes = header_bytes(first, group.len() as u64);
            for &k in group {
                let (a, r) = owner[plan.rows[k].src as usize];
                let arr = arrays[a].with_context(|| {
                    format!("{}: no labels file beside it", pairs[a].x.display())
                })?;
                if arr.row_bytes != first.row_bytes {
                    bail!(
                        "{}: rows differ in shape or dtype from the first array's",
                        pairs[a].x.display()
                    );
                }
                let at = r as usize * arr.row_bytes;
                bytes.extend_from_slice(&arr.data[at..at + arr.row_bytes]);
            }
            std::fs::write(dir.join(name), bytes)
                .with_context(|| format!("{name}: cannot write"))?;
            files.push(name.clone());
        }
        let code = placement.add(x_name);
        for (row, &k) in group.iter().enumerate() {
            placement.file[k] = code;
            placement.row[k] = Some(row as u64);
        }
    }
    Ok((files, placement))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fortran_order_becomes_c_order() {
        // [[1, 2, 3], [4, 5, 6]] stored down its columns: 1 4 2 5 3 6.
        let f: Vec<u8> = [1u8, 4, 2, 5, 3, 6].to_vec();
        assert_eq!(super::c_order(&f, &[2, 3], 1), [1, 2, 3, 4, 5, 6]);
        // Two-byte items move whole.
        let f: Vec<u8> = [1u8, 0, 4, 0, 2, 0, 5, 0].to_vec();
        assert_eq!(super::c_order(&f, &[2, 2], 2), [1, 0, 2, 0, 4, 0, 5, 0]);
        // A 2x2x2 array: C index (i, j, k) sits at Fortran offset i + 2j + 4k.
        let f: Vec<u8> = (0..8).collect();
        assert_eq!(super::c_order(&f, &[2, 2, 2], 1), [0, 4, 2, 6, 1, 5, 3, 7]);
    }
}
