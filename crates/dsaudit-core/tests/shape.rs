//! The core stays readable in pieces: no source file over 500 lines and no function
//! over 80 lines (test modules are counted with their file, not as functions). A long
//! table of data may be exempted by name in `EXEMPT`, with the reason.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 500;
const MAX_FN_LINES: usize = 80;

/// (file relative to `src/`, why it may be longer). Empty: none needs it.
const EXEMPT: &[(&str, &str)] = &[];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (name, first line, lines) of every function with a body outside the test module:
/// from its `fn` line to the closing brace at the same indentation.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.starts_with("#[cfg(test)]"))
        .unwrap_or(lines.len());
    let mut out = Vec::new();
    for (i, line) in lines[..end].iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let after_vis = ["pub(crate) ", "pub(super) ", "pub "]
            .iter()
            .find_map(|v| body.strip_prefix(v))
            .unwrap_or(body);
        let after_mods = ["const ", "unsafe "]
            .iter()
            .fold(after_vis, |s, m| s.strip_prefix(m).unwrap_or(s));
        let Some(rest) = after_mods.strip_prefix("fn ") else {
            continue;
        };
        if line.trim_end().ends_with(';') {
            continue; // a declaration in a trait
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (open, shut) = (line.matches('{').count(), line.matches('}').count());
        if open > 0 && open == shut {
            out.push((name, i + 1, 1)); // `fn d(&self) {}`
            continue;
        }
        let close = format!("{indent}}}");
        let last = lines[i..end]
            .iter()
            .position(|l| l.trim_end() == close)
            .map_or(end - 1, |k| i + k);
        out.push((name, i + 1, last - i + 1));
    }
    out
}

#[test]
fn no_long_file_and_no_long_function() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut long = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if EXEMPT.iter().any(|(e, _)| *e == rel) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            long.push(format!("{rel}: {n} lines (at most {MAX_FILE_LINES})"));
        }
        for (name, at, len) in functions(&text) {
            if len > MAX_FN_LINES {
                long.push(format!(
                    "{rel}:{at}: fn {name} is {len} lines (at most {MAX_FN_LINES})"
                ));
            }
        }
    }
    assert!(long.is_empty(), "split these:\n{}", long.join("\n"));
}

#[test]
fn the_measure_finds_functions_and_their_ends() {
    let text = "fn a() {\n    1;\n}\n\npub(crate) fn b(\n    x: u8,\n) -> u8 {\n    x\n}\ntrait T {\n    fn c(&self);\n    fn d(&self) {}\n}\n#[cfg(test)]\nmod tests {\n    fn e() {\n    }\n}\n";
    let found = functions(text);
    let names: Vec<(&str, usize, usize)> =
        found.iter().map(|(n, a, l)| (n.as_str(), *a, *l)).collect();
    assert_eq!(names[0], ("a", 1, 3));
    assert_eq!(names[1], ("b", 5, 5));
    assert_eq!(names[2], ("d", 12, 1));
    assert_eq!(names.len(), 3, "no declaration, nothing in the test module");
}
