use crate::finding::{Finding, Severity};
use crate::rules::{Context, Rule, RuleMeta};

pub struct EmptyClass;

pub const META: RuleMeta = RuleMeta {
    code: "I010",
    name: "empty-class",
    severity: Severity::Warning,
    summary: "A class folder holds no readable sample.",
    doc: "**What it finds.** Class folders that are empty or whose every file failed to load.\n\n\
             **Why it matters.** Folder-based loaders (torchvision `ImageFolder`) still create the class index, so the model gets an output it can never learn, and class indices shift between splits that do and do not have the folder.\n\n\
             **Example.** `train/zebra/` exists but holds no image.",
    thresholds: &[],
    fix: "Add samples for the class or delete the empty folder.",
};

impl Rule for EmptyClass {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let counts = &ctx.usable;
        let mut out = Vec::new();
        for (split, class) in &ctx.loaded.declared_classes {
            let n = counts
                .get(split)
                .and_then(|c| c.get(&Some(class.clone())))
                .copied()
                .unwrap_or(0);
            if n == 0 {
                let folder = match split {
                    Some(s) => format!("{s}/{class}"),
                    None => class.clone(),
                };
                out.push(
                    Finding::new(
                        self.meta(),
                        format!("class folder '{folder}' holds no readable sample"),
                    )
                    .evidence("class", class.clone())
                    .evidence("split", split.clone()),
                );
            }
        }
        out
    }
}
