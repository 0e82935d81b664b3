//! Arbitrary bytes decoded into similarity-matrix constructions: each must answer Ok or Err.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    infoprune_core::fuzzing::csr_construction(data);
});
