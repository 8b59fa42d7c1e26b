#![no_main]
//! A COCO annotation file beside two images, loaded as a dataset.
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: dsaudit_core::fuzzing::init(),
    |data: &[u8]| dsaudit_core::fuzzing::coco(data));
