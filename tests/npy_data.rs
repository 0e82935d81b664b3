//! `.npy` values: round trips through the writers, layouts, byte orders, dtype conversions with
//! their range checks, atomic writes, and the memory-mapped reader.

mod npy_files;

use infoprune::npy::*;
use infoprune::npy_map::MappedMatrix;
use ndarray::{array, Array2, Array3};
use npy_files::{dict, f32_le, f64_le, listing, npy, put};
use std::fs;
use tempfile::TempDir;

#[test]
fn f32_matrix_round_trip_keeps_values_and_uses_logical_order() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("m.npy");
    let m = array![[1.5f32, -2.0, f32::NAN], [f32::INFINITY, 0.0, 7.25]];
    // A transposed view has non-C strides; the file must still hold logical C order.
    let t = m.t();
    write_f32_matrix(&path, t, Overwrite::Refuse).unwrap();
    let back = read_f32_matrix(&path).unwrap();
    assert_eq!(back.dim(), (3, 2));
    for (a, b) in back.iter().zip(t.iter()) {
        assert!(a == b || (a.is_nan() && b.is_nan()), "{a} != {b}");
    }
    assert!(back.is_standard_layout());
}

#[test]
fn f64_matrix_reads_back_as_f32() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("m.npy");
    let m = array![
        [0.1f64, 2.0],
        [-3.5, 1e-3],
        [f64::from(f32::MAX), f64::NEG_INFINITY]
    ];
    write_f64_matrix(&path, m.view(), Overwrite::Refuse).unwrap();
    let header = read_header(&path).unwrap();
    assert_eq!((header.dtype, header.descr().as_str()), (Dtype::F64, "<f8"));
    let back = read_f32_matrix(&path).unwrap();
    assert_eq!(back, m.mapv(|v| v as f32));
}

#[test]
fn i64_and_f32_vector_round_trip() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("v.npy");
    let v = [0i64, -1, i64::MIN, i64::MAX, 42];
    write_i64_vector(&path, &v, Overwrite::Refuse).unwrap();
    assert_eq!(read_i64_vector(&path).unwrap(), v);

    let path = dir.path().join("f.npy");
    let f = [1.0f32, -0.5, 3e38];
    write_f32_vector(&path, &f, Overwrite::Refuse).unwrap();
    assert_eq!(read_f32_vector(&path).unwrap(), f);

    let path = dir.path().join("empty.npy");
    write_i64_vector(&path, &[], Overwrite::Refuse).unwrap();
    assert_eq!(read_i64_vector(&path).unwrap(), Vec::<i64>::new());
}

#[test]
fn u8_matrix_round_trip_through_header_and_bytes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("u.npy");
    let m = Array2::from_shape_fn((3, 5), |(i, j)| (i * 50 + j) as u8);
    write_u8_matrix(&path, m.view(), Overwrite::Refuse).unwrap();
    let header = read_header(&path).unwrap();
    assert_eq!(header.dtype, Dtype::U8);
    assert_eq!(header.descr(), "|u1");
    assert_eq!(header.shape, [3, 5]);
    assert!(!header.fortran_order);
    let bytes = fs::read(&path).unwrap();
    assert_eq!(&bytes[header.data_offset..], m.as_slice().unwrap());
}

#[test]
fn fortran_order_2d_is_transposed_into_c_order() {
    let dir = TempDir::new().unwrap();
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    let data = f64_le(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    let path = put(&dir, "f.npy", &npy(1, &dict("<f8", true, "(2, 3)"), &data));
    let m = read_f32_matrix(&path).unwrap();
    assert_eq!(m, array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(m.as_slice(), Some(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0][..]));
}

#[test]
fn fortran_order_3d_is_transposed_into_c_order() {
    let dir = TempDir::new().unwrap();
    let (a, b, c) = (2, 3, 4);
    let value = |i: usize, j: usize, k: usize| (100 * i + 10 * j + k) as f32;
    let mut stored = Vec::new();
    for k in 0..c {
        for j in 0..b {
            for i in 0..a {
                stored.push(value(i, j, k));
            }
        }
    }
    let path = put(
        &dir,
        "f3.npy",
        &npy(1, &dict("<f4", true, "(2, 3, 4)"), &f32_le(&stored)),
    );
    let t = read_f32_array3(&path).unwrap();
    assert_eq!(
        t,
        Array3::from_shape_fn((a, b, c), |(i, j, k)| value(i, j, k))
    );
    assert!(t.is_standard_layout());

    let c_path = put(
        &dir,
        "c3.npy",
        &npy(1, &dict("<f4", false, "(2, 3, 4)"), &f32_le(&stored)),
    );
    assert_eq!(
        read_f32_array3(&c_path).unwrap().as_slice(),
        Some(&stored[..])
    );
}

#[test]
fn big_endian_values_are_byte_swapped() {
    let dir = TempDir::new().unwrap();
    let data: Vec<u8> = [1.5f64, -2.25, 1e10, 0.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let path = put(
        &dir,
        "be.npy",
        &npy(1, &dict(">f8", false, "(2, 2)"), &data),
    );
    assert_eq!(read_header(&path).unwrap().endian, Endian::Big);
    assert_eq!(
        read_f32_matrix(&path).unwrap(),
        array![[1.5f32, -2.25], [1e10, 0.0]]
    );

    let data: Vec<u8> = [7i32, -3, 70000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let path = put(
        &dir,
        "be_i4.npy",
        &npy(1, &dict(">i4", false, "(3,)"), &data),
    );
    assert_eq!(read_i64_vector(&path).unwrap(), [7, -3, 70000]);

    let data: Vec<u8> = [0.5f32, 8.0].iter().flat_map(|v| v.to_be_bytes()).collect();
    let path = put(
        &dir,
        "be_f4.npy",
        &npy(1, &dict(">f4", false, "(2, 1)"), &data),
    );
    assert_eq!(read_f32_vector(&path).unwrap(), [0.5, 8.0]);
}

#[test]
fn integer_dtypes_and_bool_widen_to_i64() {
    let dir = TempDir::new().unwrap();
    let cases: [(&str, Vec<u8>, Vec<i64>); 7] = [
        ("|i1", vec![0xff, 5], vec![-1, 5]),
        ("|u1", vec![0xff, 5], vec![255, 5]),
        (
            "<i2",
            [-300i16, 2].iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![-300, 2],
        ),
        (
            "<u2",
            [65535u16, 2].iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![65535, 2],
        ),
        (
            "<u4",
            [u32::MAX, 2].iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![i64::from(u32::MAX), 2],
        ),
        (
            "<u8",
            [i64::MAX as u64, 2]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            vec![i64::MAX, 2],
        ),
        ("|b1", vec![1, 0], vec![1, 0]),
    ];
    for (descr, data, expected) in cases {
        let path = put(&dir, "i.npy", &npy(1, &dict(descr, false, "(2,)"), &data));
        assert_eq!(read_i64_vector(&path).unwrap(), expected, "{descr}");
    }
}

#[test]
fn empty_rows_read_as_empty_matrix() {
    let dir = TempDir::new().unwrap();
    let path = put(&dir, "e.npy", &npy(1, &dict("<f4", false, "(0, 4)"), &[]));
    let m = read_f32_matrix(&path).unwrap();
    assert_eq!(m.dim(), (0, 4));
}

#[test]
fn f64_outside_f32_range_is_not_representable_with_its_index() {
    let dir = TempDir::new().unwrap();
    let values = [0.0, f64::NAN, f64::INFINITY, 1.0, -2.0, 1e300];
    let path = put(
        &dir,
        "c.npy",
        &npy(1, &dict("<f8", false, "(2, 3)"), &f64_le(&values)),
    );
    let err = read_f32_matrix(&path).unwrap_err();
    assert!(
        matches!(err, NpyError::NotRepresentable { ref index, value, .. } if index == &[1, 2] && value == 1e300),
        "{err}"
    );
    assert!(err.to_string().contains("1e300"), "{err}");
    // Storage position 1 in Fortran order is row 1, column 0.
    let values = [0.0, -1e300, 0.0, 0.0, 0.0, 0.0];
    let path = put(
        &dir,
        "f.npy",
        &npy(1, &dict("<f8", true, "(2, 3)"), &f64_le(&values)),
    );
    assert!(matches!(
        read_f32_matrix(&path),
        Err(NpyError::NotRepresentable { ref index, .. }) if index == &[1, 0]
    ));
    // NaN and infinity pass through.
    let values = [f64::NAN, f64::NEG_INFINITY];
    let path = put(
        &dir,
        "n.npy",
        &npy(1, &dict("<f8", false, "(2,)"), &f64_le(&values)),
    );
    let v = read_f32_vector(&path).unwrap();
    assert!(v[0].is_nan() && v[1] == f32::NEG_INFINITY);
}

#[test]
fn u64_above_i64_max_is_out_of_range() {
    let dir = TempDir::new().unwrap();
    let data: Vec<u8> = [1u64, u64::MAX]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let path = put(&dir, "u.npy", &npy(1, &dict("<u8", false, "(2,)"), &data));
    let err = read_i64_vector(&path).unwrap_err();
    assert!(
        matches!(
            err,
            NpyError::IntOutOfRange {
                index: 1,
                value: u64::MAX,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn refuse_keeps_an_existing_file_and_allow_replaces_it() {
    let dir = TempDir::new().unwrap();
    let path = put(&dir, "out.npy", b"old contents");
    let err = write_i64_vector(&path, &[1, 2], Overwrite::Refuse).unwrap_err();
    assert!(matches!(err, NpyError::AlreadyExists { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"old contents");
    let err = write_atomic(&path, b"new", Overwrite::Refuse).unwrap_err();
    assert!(matches!(err, NpyError::AlreadyExists { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"old contents");
    assert_eq!(listing(&dir), ["out.npy"]);

    write_i64_vector(&path, &[1, 2], Overwrite::Allow).unwrap();
    assert_eq!(read_i64_vector(&path).unwrap(), [1, 2]);
    assert_eq!(listing(&dir), ["out.npy"]);
}

#[test]
fn atomic_writes_leave_no_temporary_files() {
    let dir = TempDir::new().unwrap();
    write_atomic(&dir.path().join("report.json"), b"{}\n", Overwrite::Refuse).unwrap();
    write_f32_vector(&dir.path().join("a.npy"), &[1.0], Overwrite::Refuse).unwrap();
    write_f32_vector(&dir.path().join("a.npy"), &[2.0], Overwrite::Allow).unwrap();
    assert_eq!(listing(&dir), ["a.npy", "report.json"]);
    assert_eq!(fs::read(dir.path().join("report.json")).unwrap(), b"{}\n");

    // A failing rename (the target is a non-empty folder) must remove the temporary file.
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    fs::write(sub.join("x"), b"x").unwrap();
    let err = write_atomic(&sub, b"data", Overwrite::Allow).unwrap_err();
    assert!(matches!(err, NpyError::WriteIo { .. }), "{err}");
    assert!(err.is_write_failure());
    assert_eq!(listing(&dir), ["a.npy", "report.json", "sub"]);

    let err =
        write_atomic(&dir.path().join("missing/out.npy"), b"x", Overwrite::Allow).unwrap_err();
    assert!(matches!(err, NpyError::WriteIo { .. }), "{err}");
    let err = write_atomic(&dir.path().join(".."), b"x", Overwrite::Allow).unwrap_err();
    assert!(matches!(err, NpyError::BadPath { .. }), "{err}");
    assert!(!err.is_write_failure());
}

#[test]
fn only_output_io_counts_as_a_write_failure() {
    let dir = TempDir::new().unwrap();
    let err = read_f32_matrix(&dir.path().join("absent.npy")).unwrap_err();
    assert!(matches!(err, NpyError::Io { .. }), "{err}");
    assert!(!err.is_write_failure());
    let path = put(&dir, "exists.npy", b"x");
    let err = write_atomic(&path, b"y", Overwrite::Refuse).unwrap_err();
    assert!(!err.is_write_failure());
    let bad = put(&dir, "bad.npy", b"not npy");
    assert!(!read_header(&bad).unwrap_err().is_write_failure());
}

#[test]
fn maps_f32_zero_copy_and_f64_by_gathering() {
    let dir = tempfile::tempdir().unwrap();
    let e = Array2::from_shape_fn((7, 3), |(i, j)| (i * 10 + j) as f32);
    let p32 = dir.path().join("e32.npy");
    write_f32_matrix(&p32, e.view(), Overwrite::Refuse).unwrap();
    let m = MappedMatrix::open(&p32).unwrap();
    assert_eq!((m.nrows(), m.ncols()), (7, 3));
    assert_eq!(m.view().unwrap(), e.view());
    let whole = m.whole().unwrap();
    assert!(whole.is_view(), "float32 is viewed in place");
    assert_eq!(whole, e);
    assert_eq!(
        m.gather(&[6, 0]).unwrap().row(0).to_vec(),
        vec![60.0, 61.0, 62.0]
    );

    let p64 = dir.path().join("e64.npy");
    write_f64_matrix(&p64, e.mapv(|v| v as f64).view(), Overwrite::Refuse).unwrap();
    let m = MappedMatrix::open(&p64).unwrap();
    assert!(m.view().is_none());
    let whole = m.whole().unwrap();
    assert!(!whole.is_view(), "float64 is gathered");
    assert_eq!(whole, e);
    assert_eq!(
        m.gather(&[2, 5]).unwrap(),
        e.select(ndarray::Axis(0), &[2, 5])
    );

    let big = dir.path().join("big.npy");
    let mut b = Array2::<f64>::zeros((2, 2));
    b[[1, 0]] = 1e300;
    write_f64_matrix(&big, b.view(), Overwrite::Refuse).unwrap();
    let err = MappedMatrix::open(&big)
        .unwrap()
        .gather(&[0, 1])
        .unwrap_err();
    assert!(err.to_string().contains("1e300"), "{err}");
}

#[test]
fn rejects_what_it_cannot_map() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v.npy");
    write_f32_vector(&p, &[1.0, 2.0], Overwrite::Refuse).unwrap();
    assert!(MappedMatrix::open(&p)
        .unwrap_err()
        .to_string()
        .contains("2-D"));
    let p = dir.path().join("i.npy");
    write_i64_vector(&p, &[1, 2], Overwrite::Refuse).unwrap();
    assert!(MappedMatrix::open(&p).is_err());
    assert!(MappedMatrix::open(&dir.path().join("missing.npy")).is_err());
}

#[test]
fn gathered_rows_match_the_reader_in_every_layout_byte_order_and_alignment() {
    let dir = TempDir::new().unwrap();
    let (n, d) = (37, 5);
    let value = |i: usize, j: usize| (i * 10 + j) as f64 * 0.25 - 3.0;
    let rows = [36, 0, 5, 5, 20];
    let cases = ["<f4", ">f4", "<f8", ">f8"].into_iter().flat_map(|descr| {
        [
            (descr, false, false),
            (descr, true, false),
            (descr, false, true),
        ]
    });
    for (descr, fortran, misaligned) in cases {
        let cells: Vec<(usize, usize)> = if fortran {
            (0..d).flat_map(|j| (0..n).map(move |i| (i, j))).collect()
        } else {
            (0..n).flat_map(|i| (0..d).map(move |j| (i, j))).collect()
        };
        let mut data = Vec::new();
        for (i, j) in cells {
            let v = value(i, j);
            match descr {
                "<f4" => data.extend((v as f32).to_le_bytes()),
                ">f4" => data.extend((v as f32).to_be_bytes()),
                "<f8" => data.extend(v.to_le_bytes()),
                _ => data.extend(v.to_be_bytes()),
            }
        }
        let mut bytes = npy(1, &dict(descr, fortran, &format!("({n}, {d})")), &data);
        if misaligned {
            // Two more spaces in the header: the data starts 2 bytes past a multiple of 64.
            let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            bytes.splice(10 + header_len - 1..10 + header_len - 1, *b"  ");
            bytes[8..10].copy_from_slice(&(header_len as u16 + 2).to_le_bytes());
        }
        let path = put(&dir, "g.npy", &bytes);
        let case = format!("{descr} fortran={fortran} misaligned={misaligned}");
        let expected = read_f32_matrix(&path).unwrap();
        assert_eq!(expected[[36, 4]], value(36, 4) as f32, "{case}");
        let m = MappedMatrix::open(&path).unwrap();
        assert_eq!(
            m.gather(&rows).unwrap(),
            expected.select(ndarray::Axis(0), &rows),
            "{case}"
        );
        assert_eq!(m.whole().unwrap(), expected, "{case}");
        let in_place = descr == "<f4" && !fortran && !misaligned;
        assert_eq!(m.view().is_some(), in_place, "{case}");
    }
    // Out of the f32 range in a file that has to be decoded (big-endian), with its position.
    let mut data: Vec<u8> = [0.0f64; 6].iter().flat_map(|v| v.to_be_bytes()).collect();
    data[40..48].copy_from_slice(&(-1e300f64).to_be_bytes());
    let path = put(
        &dir,
        "big.npy",
        &npy(1, &dict(">f8", false, "(3, 2)"), &data),
    );
    let err = MappedMatrix::open(&path).unwrap().gather(&[2]).unwrap_err();
    assert!(
        matches!(err, NpyError::NotRepresentable { ref index, value, .. } if index == &[2, 1] && value == -1e300),
        "{err}"
    );
}
