#![no_main]
//! A YOLO label file of an image, loaded as a dataset.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| dsaudit_core::fuzzing::yolo(data));
