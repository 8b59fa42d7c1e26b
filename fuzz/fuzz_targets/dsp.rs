#![no_main]
//! A partial scan (.dsp) read and merged.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| dsaudit_core::fuzzing::dsp(data));
