#![no_main]
//! A labels file beside two images.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| dsaudit_core::fuzzing::labels(data));
