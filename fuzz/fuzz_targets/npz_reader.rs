//! Arbitrary bytes as a SciPy `.npz` sparse similarity: the reader must answer Ok or Err, never
//! panic or allocate for sizes the bytes do not hold.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = infoprune::npz::csr_from_bytes(std::path::Path::new("fuzz.npz"), data);
});
