use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct EmptyClass;

pub const META: RuleMeta = RuleMeta {
    code: "I010",
    name: "empty-class",
    severity: Severity::Warning,
    summary: "A class folder (or a declared class name) holds no readable sample.",
    doc: "**What it finds.** Class folders that are empty or whose every file failed to load; for Hugging Face Parquet shards, names of the `ClassLabel` that no readable sample carries.\n\n\
             **Why it matters.** Folder-based loaders (torchvision `ImageFolder`) still create the class index, so the model gets an output it can never learn, and class indices shift between splits that do and do not have the folder.\n\n\
             **Example.** `train/zebra/` exists but holds no image.",
    thresholds: &[],
    fix: "Add samples for the class, or delete the empty folder (for Parquet shards, drop the name from the ClassLabel).",
};

impl Rule for EmptyClass {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let counts = ctx.counts();
        let mut out = Vec::new();
        for (split, class) in &ctx.loaded.declared_classes {
            // A class declared for no split in particular (a Parquet ClassLabel, class
            // folders without split folders) counts its samples in every split.
            let key = Some(class.clone());
            let n: u64 = match split {
                Some(_) => counts
                    .get(split)
                    .and_then(|c| c.get(&key))
                    .copied()
                    .unwrap_or(0),
                None => counts.values().filter_map(|c| c.get(&key)).sum(),
            };
            if n == 0 {
                let name = match split {
                    Some(s) => format!("{s}/{class}"),
                    None => class.clone(),
                };
                let what = ctx.spec.layout.declares_classes_as();
                let message = format!("{what} '{name}' holds no readable sample");
                out.push(
                    Finding::new(self.meta(), message)
                        .evidence("class", class.clone())
                        .evidence("split", split.clone()),
                );
            }
        }
        out
    }
}
