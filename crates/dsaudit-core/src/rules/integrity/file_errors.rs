//! The rules that list the files whose load failed, one per kind of failure (I001,
//! I002, I003, I004, I006, I015). They differ only in data, so they are rows of one table.

use crate::finding::{Finding, Severity};
use crate::rules::{samples_with_error, Context, Rule, RuleMeta};

/// One finding listing every sample whose load failed with one of `kinds`.
pub struct FileError {
    pub meta: RuleMeta,
    /// The manifest's `error_kind` values this rule reports.
    pub kinds: &'static [&'static str],
    /// The message's predicate: "N of M files {what}".
    pub what: &'static str,
}

impl Rule for FileError {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }
    fn check(&self, ctx: &Context) -> Vec<Finding> {
        let samples = samples_with_error(ctx, self.kinds);
        if samples.is_empty() {
            return Vec::new();
        }
        let n = samples.len();
        let total = ctx.loaded.manifest.len();
        let share = crate::util::round4(n as f64 / total.max(1) as f64);
        vec![
            Finding::new(&self.meta, format!("{n} of {total} files {}", self.what))
                .evidence("count", n)
                .evidence("share", share)
                .with_samples(samples),
        ]
    }
}

pub static UNREADABLE: FileError = FileError {
    meta: RuleMeta {
        code: "I001",
        name: "unreadable-file",
        severity: Severity::Error,
        summary: "A file cannot be opened or does not decode as the image it claims to be.",
        doc: "**What it finds.** Files that cannot be opened (permissions, I/O errors), that are not regular files (a FIFO, a device, a socket, or a link to one: refused without being opened, so a scan never hangs on one), that are larger than `--max-file-size` (512 MiB by default: refused without being read), or whose content does not decode: a corrupt header, bad compressed data.\n\n\
                 **Why it matters.** A data loader that meets one crashes mid-epoch, or, worse, a `try/except` skips it and the class counts you think you train on are not the ones you do.\n\n\
                 **Example.** `train/cat/0042.png: not a valid png file: unrecognised header` (the file was overwritten by an HTML error page during download).",
        thresholds: &[],
        fix: "Re-download or re-export these files, or remove them from the dataset.",
    },
    kinds: &["unreadable", "corrupt"],
    what: "cannot be read or decoded",
};

pub static TRUNCATED: FileError = FileError {
    meta: RuleMeta {
        code: "I002",
        name: "truncated-file",
        severity: Severity::Error,
        summary: "An image file is cut short: decoding runs out of data or the end marker is missing.",
        doc: "**What it finds.** Images whose data stops early: the decoder hits end of file, or a PNG has no `IEND` chunk, a JPEG no `FFD9` end-of-image marker, a GIF no trailer. Some decoders silently fill the missing part with grey, so the end marker is checked even when decoding succeeds.\n\n\
                 **Why it matters.** Interrupted downloads and copies produce these. PIL raises `image file is truncated` at training time, or with `LOAD_TRUNCATED_IMAGES` trains on half-grey pictures.\n\n\
                 **Example.** `train/dog/0193.jpg: jpeg end marker missing: file is cut short`.",
        thresholds: &[],
        fix: "Copy or download these files again; compare sizes with the source.",
    },
    kinds: &["truncated"],
    what: "are truncated",
};

pub static EMPTY: FileError = FileError {
    meta: RuleMeta {
        code: "I003",
        name: "empty-file",
        severity: Severity::Error,
        summary: "A sample file has zero bytes.",
        doc: "**What it finds.** Sample files of zero bytes.\n\n\
                 **Why it matters.** They come from failed downloads or full disks; every image library refuses them, and they often hide a larger copy problem.\n\n\
                 **Example.** `test/bird/0007.png: zero-byte file`.",
        thresholds: &[],
        fix: "Restore these files from the source or delete them.",
    },
    kinds: &["empty"],
    what: "are empty (zero bytes)",
};

pub static UNSUPPORTED: FileError = FileError {
    meta: RuleMeta {
        code: "I004",
        name: "unsupported-file",
        severity: Severity::Warning,
        summary: "A file among the samples is not an image in a supported format.",
        doc: "**What it finds.** Files inside class folders (or listed in a labels file) that are not PNG, JPEG, BMP, GIF, TIFF or WebP images: notes, archives, or image formats dsaudit does not decode (AVIF, ICO, ...).\n\n\
                 **Why it matters.** A generic folder loader either crashes on them or counts them as samples of the class they sit in.\n\n\
                 **Example.** `train/cat/notes.txt: not an image file`.",
        thresholds: &[],
        fix: "Move non-image files out of the class folders, or convert the images to a supported format.",
    },
    kinds: &["unsupported"],
    what: "are not images in a supported format",
};

pub static MISSING: FileError = FileError {
    meta: RuleMeta {
        code: "I006",
        name: "missing-file",
        severity: Severity::Error,
        summary: "A labels file lists an image that does not exist.",
        doc: "**What it finds.** Rows of a labels file whose path points to no file.\n\n\
                 **Why it matters.** The loader fails when it reaches the row, or the class loses samples you believe it has.\n\n\
                 **Example.** `images/0831.png (labels.csv row 830): file not found`.",
        thresholds: &[],
        fix: "Fix the paths in the labels file (relative to the labels file's folder) or restore the images.",
    },
    kinds: &["missing"],
    what: "listed in the labels file do not exist",
};

pub static OUTSIDE: FileError = FileError {
    meta: RuleMeta {
        code: "I015",
        name: "outside-path",
        severity: Severity::Error,
        summary: "A labels file names a file outside the dataset's folder; it is not read.",
        doc: "**What it finds.** Rows of a labels file whose path leaves the folder of the dataset: `../other/x.png`, or an absolute path elsewhere. dsaudit neither reads them nor copies or links them into a build, unless `--allow-outside-paths` is given.\n\n\
                 **Why it matters.** A labels file is data, often made elsewhere; it can point a loader at any file the user can read, and a build would then copy it next to the dataset. It also means the dataset is not self-contained: moved or shared, these rows break.\n\n\
                 **Example.** `../../home/me/.ssh/id_rsa (labels.csv row 12): path leaves the dataset folder`.",
        thresholds: &[],
        fix: "Move the files into the dataset's folder and list them relative to the labels file, or pass --allow-outside-paths if reading them is intended.",
    },
    kinds: &["outside"],
    what: "named by the labels file lie outside the dataset folder (not read)",
};
