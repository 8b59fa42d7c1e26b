#![no_main]
//! An Arrow IPC (Feather) table.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| dsaudit_core::fuzzing::table(data, "arrow"));
