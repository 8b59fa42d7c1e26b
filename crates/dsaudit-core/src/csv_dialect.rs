//! What a delimited text table looks like before it is parsed: its field separator
//! (`,` `;` tab or `|`, guessed from its first lines) and its header's names. A
//! `;`-separated file read with `,` is one column, and every check on it is wrong.

/// The separators tried, in the order ties are broken after the extension's own.
pub const CANDIDATES: &[u8] = b",;\t|";

/// Bytes looked at to guess the separator.
pub const SNIFF_BYTES: usize = 64 << 10;

/// Lines looked at to guess the separator.
const SNIFF_LINES: usize = 50;

/// The separator the extension implies: tab for `.tsv`, else comma.
pub fn default_for(ext: &str) -> u8 {
    if ext == "tsv" {
        b'\t'
    } else {
        b','
    }
}

/// The separator of a table whose first bytes are `head`: the extension's own when
/// every line splits on it into the same number (two or more) of fields; else the
/// candidate that splits every line into the most fields, the same number each; else
/// the extension's own (a ragged file is then reported as such).
pub fn sniff(head: &[u8], ext: &str) -> u8 {
    let own = default_for(ext);
    let lines = complete_lines(head);
    if lines.is_empty() {
        return own;
    }
    let consistent = |sep: u8| -> Option<usize> {
        let mut n = None;
        for line in &lines {
            let k = fields(line, sep).len();
            match n {
                None => n = Some(k),
                Some(m) if m != k => return None,
                _ => {}
            }
        }
        n.filter(|&k| k >= 2)
    };
    if consistent(own).is_some() {
        return own;
    }
    let mut best = (0usize, own);
    for &sep in CANDIDATES {
        if let Some(k) = consistent(sep) {
            if k > best.0 {
                best = (k, sep);
            }
        }
    }
    best.1
}

/// The non-empty lines of `head`, without a last line that may be cut off, at most
/// `SNIFF_LINES`; a line break inside quotes does not end a line.
fn complete_lines(head: &[u8]) -> Vec<&[u8]> {
    let cut = head.len() == SNIFF_BYTES;
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                let line = &head[start..i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if !line.is_empty() {
                    out.push(line);
                }
                start = i + 1;
                if out.len() == SNIFF_LINES {
                    return out;
                }
            }
            _ => {}
        }
    }
    if !cut && start < head.len() {
        out.push(&head[start..]);
    }
    out
}

/// The fields of one line, quotes honoured (a doubled quote inside quotes is one).
pub fn fields(line: &[u8], sep: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if quoted {
            if b == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                cur.push(b);
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == sep {
            out.push(String::from_utf8_lossy(&cur).into_owned());
            cur.clear();
        } else {
            cur.push(b);
        }
        i += 1;
    }
    out.push(String::from_utf8_lossy(&cur).into_owned());
    out
}

/// The header's names (the first line), trimmed as the table reader trims them.
pub fn header(head: &[u8], sep: u8) -> Vec<String> {
    let line = complete_lines(head).first().copied().unwrap_or(head);
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    fields(line, sep)
}

/// The first name the header holds twice, with the 1-based positions of both.
pub fn duplicate_name(names: &[String]) -> Option<(String, usize, usize)> {
    let mut seen = std::collections::HashMap::new();
    for (i, n) in names.iter().enumerate() {
        if let Some(&first) = seen.get(n.as_str()) {
            return Some((n.clone(), first + 1, i + 1));
        }
        seen.insert(n.as_str(), i);
    }
    None
}

/// How the separator is named in messages.
pub fn name(sep: u8) -> &'static str {
    match sep {
        b',' => "',' (comma)",
        b';' => "';' (semicolon)",
        b'\t' => "tab",
        b'|' => "'|' (pipe)",
        _ => "an unusual separator",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_guessed_from_the_lines() {
        assert_eq!(sniff(b"a;b;label\n1;2;x\n3;4;y\n", "csv"), b';');
        // Decimal commas do not fool it: the comma count differs between lines.
        assert_eq!(sniff(b"a;b;label\n1,5;2;x\n3,25;4,5;y\n", "csv"), b';');
        assert_eq!(sniff(b"a|b\n1|2\n", "csv"), b'|');
        assert_eq!(sniff(b"a\tb\n1\t2\n", "csv"), b'\t');
        // The extension's own separator wins when it splits the lines evenly.
        assert_eq!(sniff(b"a,b;c\n1,2;3\n", "csv"), b',');
        assert_eq!(sniff(b"a\tb;c\n1\t2;3\n", "tsv"), b'\t');
        // One column, or nothing consistent: the extension's own.
        assert_eq!(sniff(b"path\nx.png\n", "csv"), b',');
        assert_eq!(sniff(b"a;b\n1;2;3\n", "csv"), b',');
        // Quoted separators and line breaks are inside a field.
        assert_eq!(sniff(b"a;b\n\"x;y\";\"1\n2\"\n", "csv"), b';');
    }

    #[test]
    fn headers_and_their_duplicates() {
        let h = header(b"\xef\xbb\xbfa,label,\"label\"\n1,2,3\n", b',');
        assert_eq!(h, ["a", "label", "label"]);
        assert_eq!(duplicate_name(&h), Some(("label".to_string(), 2, 3)));
        assert_eq!(duplicate_name(&header(b"a,b\n", b',')), None);
    }
}
