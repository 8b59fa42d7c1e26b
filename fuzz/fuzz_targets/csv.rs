#![no_main]
//! A CSV (or other delimited) table: read, and loaded as a one-table dataset.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| { dsaudit_core::fuzzing::table(data, "csv"); dsaudit_core::fuzzing::table_dataset(data); });
