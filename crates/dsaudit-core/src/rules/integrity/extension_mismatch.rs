use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct ExtensionMismatch;

pub const META: RuleMeta = RuleMeta {
    code: "I005",
    name: "extension-mismatch",
    severity: Severity::Warning,
    summary: "A file's extension names a different format from its content.",
    doc: "**What it finds.** Images whose content (magic bytes) is one format while the extension says another, e.g. a JPEG saved as `.png`, or an image with no image extension at all.\n\n\
             **Why it matters.** Loaders that trust the extension fail or pick the wrong decoder; lossy JPEGs posing as PNGs hide compression artefacts in a dataset believed lossless.\n\n\
             **Example.** `train/cat/0012.png: content is jpeg, extension says png`.",
    thresholds: &[],
    fix: "Rename the files to their real format's extension, or re-encode them.",
};

impl Rule for ExtensionMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let m = &ctx.loaded.manifest;
        let mut samples = Vec::new();
        for (i, (fmt, ext)) in m
            .strs("format")
            .iter()
            .zip(m.strs("ext_format").iter())
            .enumerate()
        {
            let Some(fmt) = fmt else { continue };
            if ext != Some(fmt) {
                let mut r = m.sample_ref(i);
                r.note = Some(format!(
                    "content is {fmt}, extension says {}",
                    ext.unwrap_or("nothing")
                ));
                samples.push(r);
            }
        }
        if samples.is_empty() {
            return Vec::new();
        }
        let n = samples.len();
        vec![Finding::new(
            self.meta(),
            format!(
                "{n} {} an extension that does not match {} content",
                if n == 1 { "file has" } else { "files have" },
                if n == 1 { "its" } else { "their" }
            ),
        )
        .evidence("count", n)
        .with_samples(samples)]
    }
}
