#![no_main]
//! A labels file beside two images.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        // As the binary does: a panic a reader raises on a damaged file is caught at
        // the file boundary (`util::guarded`) and becomes that file's error. Only a
        // panic that gets past it, an abort, a hang or an OOM is a crash here. With
        // DSAUDIT_FUZZ_CAUSES set, libFuzzer's hook stays and every panic, caught or
        // not, is a crash: how the dependencies' panics were found.
        if std::env::var_os("DSAUDIT_FUZZ_CAUSES").is_none() {
            std::panic::set_hook(Box::new(|_| {}));
        }
    },
    |data: &[u8]| dsaudit_core::fuzzing::labels(data));
