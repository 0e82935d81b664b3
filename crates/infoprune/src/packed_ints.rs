//! A vector of small unsigned integers as compact JSON: little-endian values of the narrowest
//! width that holds them, zlib-compressed, then base64. A plan over 10^7 rows stays a few
//! megabytes (one byte a row before compression while there are under 255 problems, and one
//! global problem compresses to almost nothing), and NumPy reads it back in one line:
//!
//! ```python
//! np.frombuffer(zlib.decompress(base64.b64decode(a["zlib_base64"])), dtype=a["dtype"])
//! ```

use crate::error::{Error, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// Unsigned integers packed for JSON (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedInts {
    /// NumPy's name of the stored type: `<u1`, `<u2` or `<u4`.
    pub dtype: String,
    /// Number of values.
    pub len: usize,
    /// The little-endian values, zlib-compressed, in standard padded base64.
    pub zlib_base64: String,
}

/// Bytes per value for each `dtype`.
const WIDTHS: [(&str, usize); 3] = [("<u1", 1), ("<u2", 2), ("<u4", 4)];

impl PackedInts {
    /// Packs `values`, each at most `max`, at the narrowest width that holds `max`.
    pub fn pack(values: &[u32], max: u32) -> Self {
        debug_assert!(values.iter().all(|&v| v <= max));
        let (dtype, width) = if max <= u8::MAX as u32 {
            WIDTHS[0]
        } else if max <= u16::MAX as u32 {
            WIDTHS[1]
        } else {
            WIDTHS[2]
        };
        let mut bytes = Vec::with_capacity(values.len() * width);
        for &v in values {
            bytes.extend_from_slice(&v.to_le_bytes()[..width]);
        }
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&bytes).expect("writing to a Vec cannot fail");
        let zipped = z.finish().expect("writing to a Vec cannot fail");
        Self {
            dtype: dtype.to_string(),
            len: values.len(),
            zlib_base64: STANDARD.encode(zipped),
        }
    }

    /// The values, or an error naming `what` when the text is not a packing of `len` values.
    pub fn unpack(&self, what: &str) -> Result<Vec<u32>> {
        let bad = |why: String| Error::Plan(format!("{what}: {why}"));
        let width = WIDTHS
            .iter()
            .find(|(d, _)| *d == self.dtype)
            .map(|&(_, w)| w)
            .ok_or_else(|| bad(format!("dtype '{}' is not <u1, <u2 or <u4", self.dtype)))?;
        let zipped = STANDARD
            .decode(&self.zlib_base64)
            .map_err(|e| bad(format!("not base64 ({e})")))?;
        let expected = self
            .len
            .checked_mul(width)
            .ok_or_else(|| bad(format!("{} values do not fit in memory", self.len)))?;
        // One byte more than expected is read so that a longer payload is caught without
        // inflating all of it.
        let mut bytes = Vec::with_capacity(expected);
        ZlibDecoder::new(&zipped[..])
            .take(expected as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("not zlib data ({e})")))?;
        if bytes.len() != expected {
            return Err(bad(format!(
                "holds {} bytes, {} values of {width} byte(s) need {expected}",
                bytes.len(),
                self.len
            )));
        }
        Ok(bytes
            .chunks_exact(width)
            .map(|c| {
                let mut le = [0u8; 4];
                le[..width].copy_from_slice(c);
                u32::from_le_bytes(le)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_the_narrowest_width() {
        for (max, dtype) in [(1u32, "<u1"), (255, "<u1"), (256, "<u2"), (70_000, "<u4")] {
            let values: Vec<u32> = (0..10_000u32).map(|i| (i * 7919) % (max + 1)).collect();
            let packed = PackedInts::pack(&values, max);
            assert_eq!(packed.dtype, dtype);
            assert_eq!(packed.unpack("v").unwrap(), values);
        }
        assert_eq!(
            PackedInts::pack(&[], 0).unpack("v").unwrap(),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn ten_million_rows_stay_small() {
        // 200 problems in a seeded random order: about one byte a row (the entropy is 7.6 bits).
        let n = 10_000_000u64;
        let values: Vec<u32> = (0..n)
            .map(|i| ((i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) % 200) as u32)
            .collect();
        let packed = PackedInts::pack(&values, 200);
        let json = serde_json::to_string(&packed).unwrap();
        assert!(json.len() < 14_000_000, "{} bytes", json.len());
        assert_eq!(packed.unpack("v").unwrap(), values);
        // One global problem: almost nothing.
        let packed = PackedInts::pack(&vec![0; n as usize], 1);
        assert!(serde_json::to_string(&packed).unwrap().len() < 100_000);
    }

    #[test]
    fn damaged_text_is_an_error_naming_it() {
        let good = PackedInts::pack(&[1, 2, 3], 3);
        let cases = [
            PackedInts {
                dtype: "<i8".into(),
                ..good.clone()
            },
            PackedInts {
                zlib_base64: "not base64!".into(),
                ..good.clone()
            },
            PackedInts {
                zlib_base64: STANDARD.encode(b"not zlib"),
                ..good.clone()
            },
            PackedInts {
                len: 4,
                ..good.clone()
            },
            PackedInts { len: 2, ..good },
        ];
        for case in cases {
            let err = case.unpack("problem_of_row").unwrap_err().to_string();
            assert!(err.contains("problem_of_row"), "{err}");
        }
    }
}
