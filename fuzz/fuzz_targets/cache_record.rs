#![no_main]
//! A file of the check's cache.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| dsaudit_core::fuzzing::cache_record(data));
