//! `dsaudit check`'s protocol around a scan. A re-check of the same command line
//! whose inputs kept their names, sizes and times prints what the last one printed,
//! without reading a byte; when only the times moved (a checkout, a rebase) the
//! contents decide, from the per-file records. Otherwise the scan runs, and its output
//! is stored under both fingerprints, taken from what the scan read anyway.

use super::{
    content_fingerprint, fingerprint_inputs, run_fingerprints, Cache, Files, Stamps, StoredResult,
};
use crate::load::DatasetSpec;

/// One command line's check over its datasets, between the lookup and the store.
pub struct Check<'a> {
    cache: &'a Cache,
    command: blake3::Hash,
    /// Of the inputs' names, sizes and times: taken before the scan when a result
    /// was stored (to compare), else after it from the scan's own reads.
    fingerprint: Option<[u8; 32]>,
    inputs: blake3::Hasher,
    contents: blake3::Hasher,
    /// Per dataset, the records already read to compare contents, and the sizes and
    /// times already taken.
    files: Vec<Option<Files>>,
    stamps: Vec<Stamps>,
    /// False once an input's identities were not taken: no fingerprint is whole, and
    /// no result is stored.
    whole: bool,
}

pub enum Lookup<'a> {
    /// Nothing changed since the last check of this command line.
    Unchanged(StoredResult),
    /// The scan must run (boxed: the hashers' state is large).
    Run(Box<Check<'a>>),
}

impl<'a> Check<'a> {
    /// `command`: what makes another command line (the build, the working directory,
    /// the arguments that change the output); `settings`: each dataset's effective
    /// configuration; `lap` is told when each step ends.
    pub fn open(
        cache: &'a Cache,
        command: blake3::Hash,
        settings: &[String],
        specs: &[&DatasetSpec],
        lap: &mut dyn FnMut(&str),
    ) -> Lookup<'a> {
        let settings_of = |h: &mut blake3::Hasher| {
            h.update(command.as_bytes());
            for s in settings {
                h.update(s.as_bytes());
            }
        };
        let mut inputs = blake3::Hasher::new();
        settings_of(&mut inputs);
        let mut stamps: Vec<Stamps> = specs.iter().map(|_| Default::default()).collect();
        let mut files: Vec<Option<Files>> = specs.iter().map(|_| None).collect();
        let stored = cache.result(command.as_bytes());
        // With nothing stored for this command line there is nothing to compare: the
        // fingerprint is then taken after the scan, from the sizes and times its load
        // took anyway, so that a cold check costs what a scan costs.
        let mut fingerprint = None;
        if stored.is_some() {
            for (i, spec) in specs.iter().enumerate() {
                stamps[i] = fingerprint_inputs(&mut inputs, spec);
            }
            fingerprint = Some(*inputs.clone().finalize().as_bytes());
            lap("cache: fingerprint of names, sizes, times");
        }
        let mut hit = stored
            .clone()
            .filter(|r| Some(r.fingerprint) == fingerprint);
        let mut settings_hash = blake3::Hasher::new();
        settings_of(&mut settings_hash);
        let settings_hash = settings_hash.finalize();
        // Times moved: compare contents (unchanged files' hashes come from the records).
        if let (None, Some(stored)) = (&hit, stored) {
            let mut contents = blake3::Hasher::new();
            contents.update(settings_hash.as_bytes());
            for (i, spec) in specs.iter().enumerate() {
                let f = cache.files(&spec.root, std::mem::take(&mut stamps[i]));
                content_fingerprint(&mut contents, spec, &f);
                files[i] = Some(f);
            }
            let content: [u8; 32] = *contents.finalize().as_bytes();
            hit = Some(stored).filter(|r| r.content == content);
            lap("cache: records read, contents compared");
            if let Some(h) = &hit {
                let fingerprint = fingerprint.expect("taken when a result is stored");
                let refreshed = StoredResult {
                    fingerprint,
                    ..h.clone()
                };
                cache.store_result(command.as_bytes(), &refreshed);
            }
        }
        if let Some(hit) = hit {
            return Lookup::Unchanged(hit);
        }
        let mut contents = blake3::Hasher::new();
        contents.update(settings_hash.as_bytes());
        Lookup::Run(Box::new(Check {
            cache,
            command,
            fingerprint,
            inputs,
            contents,
            files,
            stamps,
            whole: true,
        }))
    }

    /// The per-file records of dataset `i` for its scan: those read to compare
    /// contents, else opened now with the sizes and times already taken.
    pub fn files(&mut self, i: usize, spec: &DatasetSpec) -> Files {
        self.files[i].take().unwrap_or_else(|| {
            let stamps = std::mem::take(&mut self.stamps[i]);
            self.cache.files(&spec.root, stamps)
        })
    }

    /// After a dataset's scan: the identities of its inputs, taken while the stages
    /// ran, go into the fingerprints.
    pub fn scanned(&mut self, spec: &DatasetSpec, files: &Files) {
        match files.run_ids() {
            Some(ids) if self.whole => {
                let names = self.fingerprint.is_none().then_some(&mut self.inputs);
                run_fingerprints(&mut self.contents, names, spec, ids);
            }
            Some(_) => {}
            None => self.whole = false,
        }
    }

    /// Stores the command line's output and exit code under the fingerprints. Call
    /// after the datasets' state is written, so that a result never points at a state
    /// that is not whole on disk.
    pub fn finish(self, exit: i32, output: &str) {
        if !self.whole {
            return;
        }
        let fingerprint = self
            .fingerprint
            .unwrap_or_else(|| *self.inputs.finalize().as_bytes());
        let result = StoredResult {
            fingerprint,
            content: *self.contents.finalize().as_bytes(),
            exit,
            output: output.to_string(),
        };
        self.cache.store_result(self.command.as_bytes(), &result);
    }
}
