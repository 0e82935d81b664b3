//! The `.npy` header: what is accepted, and how every malformed, truncated or hostile header is
//! refused with an error naming the problem (never a panic, never an allocation the file does not
//! back).

mod npy_files;

use infoprune::npy::*;
use ndarray::array;
use npy_files::{dict, f32_le, f64_le, npy, put};
use tempfile::TempDir;

#[test]
fn reads_version_2_and_3_headers() {
    let dir = TempDir::new().unwrap();
    let data = f32_le(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let path = put(
        &dir,
        "v2.npy",
        &npy(2, &dict("<f4", false, "(2, 3)"), &data),
    );
    let header = read_header(&path).unwrap();
    assert_eq!(header.data_offset % 64, 0);
    assert_eq!(
        read_f32_matrix(&path).unwrap(),
        array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]
    );
    let v3 = dict("<f4", false, "(6,)").replace("}", "'\u{e9}': 1}");
    // A v3 header is UTF-8; the unknown key proves the text was decoded, then refused.
    let path = put(&dir, "v3.npy", &npy(3, &v3, &data));
    let err = read_f32_vector(&path).unwrap_err();
    assert!(err.to_string().contains("'\u{e9}'"), "{err}");
    let path = put(
        &dir,
        "v3ok.npy",
        &npy(3, &dict("<f4", false, "(6,)"), &data),
    );
    assert_eq!(
        read_f32_vector(&path).unwrap(),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    );
}

#[test]
fn header_dict_syntax_variants_are_accepted() {
    let dir = TempDir::new().unwrap();
    let data = f32_le(&[1.0, 2.0]);
    let dicts = [
        "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
        "{ 'descr' :'<f4' ,\t'fortran_order':True,'shape':( 2 , ) , }",
        "{'descr': u'<f4', 'fortran_order': False, 'shape': (2L,)}",
        "{'descr': '=f4', 'fortran_order': False, 'shape': [2]}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
    ];
    for d in dicts {
        let path = put(&dir, "h.npy", &npy(1, d, &data));
        assert_eq!(
            read_f32_vector(&path).ok(),
            if d.contains("(1, 2)") {
                None
            } else {
                Some(vec![1.0, 2.0])
            },
            "{d}"
        );
    }
    // A 0-d array has shape ().
    let path = put(
        &dir,
        "s.npy",
        &npy(1, &dict("<f4", false, "()"), &f32_le(&[3.0])),
    );
    let header = read_header(&path).unwrap();
    assert_eq!(header.shape, Vec::<usize>::new());
    assert!(matches!(
        read_f32_vector(&path),
        Err(NpyError::WrongDimensions { ref found, .. }) if found.is_empty()
    ));
}

#[test]
fn bad_magic_is_reported() {
    let dir = TempDir::new().unwrap();
    let mut bytes = npy(1, &dict("<f4", false, "(1,)"), &f32_le(&[1.0]));
    bytes[1] = b'X';
    let path = put(&dir, "m.npy", &bytes);
    let err = read_f32_vector(&path).unwrap_err();
    assert!(matches!(err, NpyError::BadMagic { .. }), "{err}");
    assert!(err.to_string().contains("m.npy"), "{err}");
    let path = put(&dir, "csv.npy", b"1,2,3\n");
    assert!(matches!(read_header(&path), Err(NpyError::BadMagic { .. })));
}

#[test]
fn unsupported_version_is_reported() {
    let dir = TempDir::new().unwrap();
    let mut bytes = npy(1, &dict("<f4", false, "(1,)"), &f32_le(&[1.0]));
    bytes[6] = 9;
    let path = put(&dir, "v.npy", &bytes);
    let err = read_f32_vector(&path).unwrap_err();
    assert!(
        matches!(
            err,
            NpyError::UnsupportedVersion {
                major: 9,
                minor: 0,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("9.0"), "{err}");
}

#[test]
fn truncated_data_names_expected_and_found_bytes() {
    let dir = TempDir::new().unwrap();
    let bytes = npy(1, &dict("<f4", false, "(2, 3)"), &f32_le(&[1.0; 5]));
    let path = put(&dir, "t.npy", &bytes);
    let err = read_f32_matrix(&path).unwrap_err();
    assert!(
        matches!(
            err,
            NpyError::Truncated {
                part: "data",
                expected_bytes: 24,
                found_bytes: 20,
                ..
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("24") && message.contains("20"),
        "{message}"
    );
    // read_header validates the length too.
    assert!(matches!(
        read_header(&path),
        Err(NpyError::Truncated { .. })
    ));

    let path = put(&dir, "h.npy", &bytes[..40]);
    assert!(matches!(
        read_header(&path),
        Err(NpyError::Truncated {
            part: "header",
            expected_bytes: 128,
            found_bytes: 40,
            ..
        })
    ));
    let path = put(&dir, "empty.npy", &[]);
    assert!(matches!(
        read_header(&path),
        Err(NpyError::Truncated { .. })
    ));
}

#[test]
fn trailing_bytes_are_an_error() {
    let dir = TempDir::new().unwrap();
    let bytes = npy(1, &dict("<f4", false, "(2,)"), &f32_le(&[1.0, 2.0, 3.0]));
    let path = put(&dir, "t.npy", &bytes);
    let err = read_f32_vector(&path).unwrap_err();
    assert!(
        matches!(
            err,
            NpyError::TrailingBytes {
                expected_bytes: 8,
                found_bytes: 12,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn absurd_shape_is_too_large_without_allocating() {
    let dir = TempDir::new().unwrap();
    let huge = "(1000000000000000, 1000000000000000)";
    let path = put(&dir, "h.npy", &npy(1, &dict("<f4", false, huge), &[0; 16]));
    let err = read_f32_matrix(&path).unwrap_err();
    assert!(
        matches!(err, NpyError::TooLarge { itemsize: 4, .. }),
        "{err}"
    );
    // Zero rows make the data empty, but ndarray still needs the other axes to fit.
    let path = put(
        &dir,
        "z.npy",
        &npy(
            1,
            &dict("<f4", false, "(0, 1000000000000000, 1000000000000000)"),
            &[],
        ),
    );
    assert!(matches!(
        read_f32_array3(&path),
        Err(NpyError::TooLarge { .. })
    ));
}

#[test]
fn claimed_size_is_checked_against_file_length_before_reading() {
    let dir = TempDir::new().unwrap();
    let path = put(
        &dir,
        "h.npy",
        &npy(1, &dict("<f4", false, "(1000000000,)"), &[0; 16]),
    );
    let err = read_f32_vector(&path).unwrap_err();
    assert!(
        matches!(
            err,
            NpyError::Truncated {
                part: "data",
                expected_bytes: 4_000_000_000,
                found_bytes: 16,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn oversized_header_length_is_refused() {
    let dir = TempDir::new().unwrap();
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(b"{}");
    let path = put(&dir, "h.npy", &bytes);
    assert!(matches!(
        read_header(&path),
        Err(NpyError::HeaderTooLarge {
            found: 4_294_967_295,
            ..
        })
    ));
}

#[test]
fn unsupported_dtypes_name_what_was_found() {
    let dir = TempDir::new().unwrap();
    let cases = [
        (dict("<c8", false, "(1,)"), "<c8"),
        (dict("|O", false, "(1,)"), "|O"),
        (dict("<f2", false, "(1,)"), "<f2"),
        (dict("<U5", false, "(1,)"), "<U5"),
        (
            "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }"
                .to_owned(),
            "('x', '<f4')",
        ),
    ];
    for (d, found) in cases {
        let path = put(&dir, "d.npy", &npy(1, &d, &[0; 8]));
        let err = read_f32_vector(&path).unwrap_err();
        assert!(
            matches!(err, NpyError::UnsupportedDtype { .. }),
            "{d}: {err}"
        );
        assert!(err.to_string().contains(found), "{err}");
    }
    // Supported dtypes of the wrong kind for the function called.
    let path = put(&dir, "i.npy", &npy(1, &dict("<i8", false, "(1,)"), &[0; 8]));
    let err = read_f32_vector(&path).unwrap_err();
    assert!(
        err.to_string().contains("'<i8' (int64)") && err.to_string().contains("float32"),
        "{err}"
    );
    let path = put(&dir, "f.npy", &npy(1, &dict("<f8", false, "(1,)"), &[0; 8]));
    assert!(matches!(
        read_i64_vector(&path),
        Err(NpyError::UnsupportedDtype { .. })
    ));
}

#[test]
fn missing_key_is_named() {
    let dir = TempDir::new().unwrap();
    let d = "{'descr': '<f4', 'shape': (1,), }";
    let path = put(&dir, "k.npy", &npy(1, d, &[0; 4]));
    let err = read_f32_vector(&path).unwrap_err();
    assert!(matches!(err, NpyError::BadHeader { .. }), "{err}");
    assert!(
        err.to_string().contains("missing key 'fortran_order'"),
        "{err}"
    );
}

#[test]
fn malformed_dicts_are_bad_headers() {
    let dir = TempDir::new().unwrap();
    let cases = [
        "",
        "{",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
        "{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': 4, 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",
        "['descr', '<f4']",
    ];
    for d in cases {
        let path = put(&dir, "b.npy", &npy(1, d, &[0; 4]));
        let err = read_f32_vector(&path).unwrap_err();
        assert!(matches!(err, NpyError::BadHeader { .. }), "{d:?}: {err}");
    }
}

#[test]
fn deeply_nested_header_is_refused_without_overflowing_the_stack() {
    let d = format!("{{'descr': {}, }}", "[".repeat(100_000));
    let dir = TempDir::new().unwrap();
    let path = put(&dir, "deep.npy", &npy(2, &d, &[]));
    let err = read_header(&path).unwrap_err();
    assert!(err.to_string().contains("nested"), "{err}");
}

#[test]
fn wrong_dimensions_name_the_shape() {
    let dir = TempDir::new().unwrap();
    let path = put(
        &dir,
        "v.npy",
        &npy(1, &dict("<f4", false, "(3,)"), &f32_le(&[1.0; 3])),
    );
    let err = read_f32_matrix(&path).unwrap_err();
    assert!(
        matches!(err, NpyError::WrongDimensions { expected: "2-D (rows, columns)", ref found, .. } if found == &[3]),
        "{err}"
    );
    assert!(
        err.to_string().contains("(3,)") && err.to_string().contains("2-D"),
        "{err}"
    );
    assert!(matches!(
        read_f32_array3(&path),
        Err(NpyError::WrongDimensions { .. })
    ));
    let path = put(
        &dir,
        "m.npy",
        &npy(1, &dict("<f4", false, "(3, 2)"), &f32_le(&[1.0; 6])),
    );
    assert!(matches!(
        read_f32_vector(&path),
        Err(NpyError::WrongDimensions { .. })
    ));
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Runs every decoder on `bytes`; any result is fine, a panic fails the test.
fn decode_all(bytes: &[u8]) -> bool {
    exercise_readers(bytes) > 0
}

#[test]
fn corrupted_and_truncated_files_never_panic() {
    let seeds = [
        npy(1, &dict("<f8", true, "(3, 4)"), &f64_le(&[1e300; 12])),
        npy(2, &dict(">f4", false, "(2, 2, 3)"), &[0x7f; 48]),
        npy(1, &dict("<u8", false, "(4,)"), &[0xff; 32]),
    ];
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for bytes in &seeds {
        for len in 0..bytes.len() {
            assert!(!decode_all(&bytes[..len]), "prefix of {len} bytes decoded");
        }
        for round in 0..400 {
            let mut corrupted = bytes.clone();
            // Half the corruptions target the header, where the parser does its work.
            let span = if round % 2 == 0 {
                128.min(bytes.len())
            } else {
                bytes.len()
            };
            let at = (rng.next() % span as u64) as usize;
            corrupted[at] ^= (rng.next() % 255 + 1) as u8;
            decode_all(&corrupted);
            // Also overwrite with printable characters that steer the dict parser.
            let chars = b"()[]{},:'\"-0123456789 TrueFalse\\L";
            corrupted[at] = chars[(rng.next() % chars.len() as u64) as usize];
            decode_all(&corrupted);
        }
    }
    // The same through files, which adds the metadata pre-check.
    let dir = TempDir::new().unwrap();
    for round in 0..50 {
        let mut corrupted = seeds[0].clone();
        let at = (rng.next() % 128) as usize;
        corrupted[at] ^= (rng.next() % 255 + 1) as u8;
        let path = put(&dir, &format!("{round}.npy"), &corrupted);
        let _ = read_header(&path);
        let _ = read_f32_matrix(&path);
        let _ = read_i64_vector(&path);
    }
}
