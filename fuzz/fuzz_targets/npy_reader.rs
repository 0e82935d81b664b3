//! Arbitrary bytes through every `.npy` reader: each must answer Ok or Err, never panic or
//! allocate for sizes the bytes do not hold.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    infoprune::npy::exercise_readers(data);
});
