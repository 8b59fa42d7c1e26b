#![no_main]
//! An image file, described as a scan describes it.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| dsaudit_core::fuzzing::image(data));
