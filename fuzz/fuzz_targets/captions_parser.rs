//! Arbitrary bytes as a captions file (JSONL or plain text), through the parser and the JSONL
//! writer: Ok or Err, never a panic; every parsed caption comes back as one JSONL line.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    infoprune::captions::exercise_captions(data);
});
