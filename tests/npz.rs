//! SciPy `.npz` sparse similarities: exact round trips, SciPy's member layout, stored and deflated
//! archives built by hand, the formats and dtypes SciPy writes, and every corrupt or invalid input
//! refused with a message that names the archive, the member and the problem.

use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};
use infoprune::npy::Overwrite;
use infoprune::npz::{csr_from_bytes, csr_to_npz_bytes, read_csr, write_csr, NpzError};
use infoprune_core::csr::{CsrSimilarity, SymmetryCheck};
use infoprune_core::knn::{knn_graph, KnnConfig};
use infoprune_core::progress::Silent;
use ndarray::Array2;
use std::io::{Cursor, Read, Write};
use std::path::Path;
use zip::{CompressionMethod, ZipArchive};

const P: &str = "K.npz";

/// A `.npy` member laid out as `numpy.save` writes it (version 1.0, sorted keys, 21 spare spaces
/// minus the digits of the first axis, then spaces up to a multiple of 64 bytes and a newline), so
/// that the writer is compared with NumPy's layout rather than with itself.
fn member<T, const N: usize>(
    descr: &str,
    shape: &[usize],
    values: &[T],
    to_le: impl Fn(T) -> [u8; N],
) -> Vec<u8>
where
    T: Copy,
{
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    if let Some(first) = dims.first() {
        dict.push_str(&" ".repeat(21 - first.len()));
    }
    let pad = 64 - (10 + dict.len() + 1) % 64;
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(((dict.len() + pad + 1) as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    out.extend(values.iter().flat_map(|&v| to_le(v)));
    out
}

fn text(descr: &str, s: &[u8]) -> Vec<u8> {
    member(descr, &[], s, |b| [b])
}

fn i32s(v: &[i32]) -> Vec<u8> {
    member("<i4", &[v.len()], v, i32::to_le_bytes)
}

fn i64s(v: &[i64]) -> Vec<u8> {
    member("<i8", &[v.len()], v, i64::to_le_bytes)
}

fn f32s(v: &[f32]) -> Vec<u8> {
    member("<f4", &[v.len()], v, f32::to_le_bytes)
}

fn f64s(v: &[f64]) -> Vec<u8> {
    member("<f8", &[v.len()], v, f64::to_le_bytes)
}

/// One zip entry to build by hand.
struct Entry {
    name: &'static str,
    bytes: Vec<u8>,
    deflate: bool,
    /// Replaces the CRC-32 written in both headers.
    crc: Option<u32>,
}

fn entry(name: &'static str, bytes: Vec<u8>) -> Entry {
    Entry {
        name,
        bytes,
        deflate: false,
        crc: None,
    }
}

/// A zip archive laid out by hand (local headers, data, central directory, end record), so
/// that the reader is tested against the format rather than against the zip crate's writer.
fn zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let mut crc = Crc::new();
        crc.update(&e.bytes);
        let crc = e.crc.unwrap_or(crc.sum());
        let (method, stored): (u16, Vec<u8>) = if e.deflate {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
            enc.write_all(&e.bytes).unwrap();
            (8, enc.finish().unwrap())
        } else {
            (0, e.bytes.clone())
        };
        let offset = out.len() as u32;
        let fixed = |sig: u32, central_dir: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central_dir {
                h.extend(20u16.to_le_bytes()); // version made by
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(method.to_le_bytes());
            h.extend(0u16.to_le_bytes()); // time
            h.extend(0x21u16.to_le_bytes()); // date 1980-01-01
            h.extend(crc.to_le_bytes());
            h.extend((stored.len() as u32).to_le_bytes());
            h.extend((e.bytes.len() as u32).to_le_bytes());
            h.extend((e.name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra length
            if central_dir {
                h.extend(0u16.to_le_bytes()); // comment length
                h.extend(0u16.to_le_bytes()); // disk
                h.extend(0u16.to_le_bytes()); // internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(e.name.as_bytes());
            h
        };
        out.extend(fixed(0x0403_4b50, false));
        out.extend(&stored);
        central.extend(fixed(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]); // disk numbers
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// The 4×4 symmetric matrix the hand-built archives hold, in CSR arrays:
/// (0,1) = 0.5, (1,2) = 0.25, (0,3) = 1 and their mirror images.
fn small() -> (Vec<i32>, Vec<i32>, Vec<f32>) {
    (
        vec![0, 2, 4, 5, 6],
        vec![1, 3, 0, 2, 1, 0],
        vec![0.5, 1.0, 0.5, 0.25, 0.25, 1.0],
    )
}

fn small_entries() -> Vec<Entry> {
    let (indptr, indices, data) = small();
    vec![
        entry("indices.npy", i32s(&indices)),
        entry("indptr.npy", i32s(&indptr)),
        entry("format.npy", text("|S3", b"csr")),
        entry("shape.npy", i64s(&[4, 4])),
        entry("data.npy", f32s(&data)),
    ]
}

fn expected_small() -> CsrSimilarity {
    let (indptr, indices, data) = small();
    CsrSimilarity::new(
        4,
        indptr.iter().map(|&p| p as usize).collect(),
        indices.iter().map(|&j| j as u32).collect(),
        data,
        SymmetryCheck::Require,
    )
    .unwrap()
}

fn read(bytes: &[u8]) -> Result<CsrSimilarity, NpzError> {
    csr_from_bytes(Path::new(P), bytes)
}

fn error(bytes: &[u8]) -> String {
    read(bytes).unwrap_err().to_string()
}

/// The small archive with member `name` replaced.
fn with(name: &str, bytes: Vec<u8>) -> Vec<u8> {
    let mut entries = small_entries();
    entries.iter_mut().find(|e| e.name == name).unwrap().bytes = bytes;
    zip(&entries)
}

fn knn(n: usize, d: usize, m: usize) -> CsrSimilarity {
    let e = Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 17) % 23) as f32 - 11.0);
    knn_graph(e.view(), &KnnConfig::new(m), &Silent).unwrap()
}

#[test]
fn round_trip_is_exact() {
    for (n, d, m) in [(1, 3, 5), (40, 4, 3), (300, 6, 10)] {
        let graph = knn(n, d, m);
        let bytes = csr_to_npz_bytes(Path::new(P), &graph).unwrap();
        assert_eq!(read(&bytes).unwrap(), graph, "n = {n}");
        // Deterministic: the bytes depend on the matrix only.
        assert_eq!(csr_to_npz_bytes(Path::new(P), &graph).unwrap(), bytes);
    }
    let empty = CsrSimilarity::empty(7);
    let bytes = csr_to_npz_bytes(Path::new(P), &empty).unwrap();
    assert_eq!(read(&bytes).unwrap(), empty);
}

#[test]
fn writes_scipy_members_in_order_with_scipy_dtypes() {
    let graph = expected_small();
    let bytes = csr_to_npz_bytes(Path::new(P), &graph).unwrap();
    let mut archive = ZipArchive::new(Cursor::new(&bytes)).unwrap();
    let names: Vec<&str> = archive.file_names().collect();
    // file_names follows the central directory, in writing order.
    assert_eq!(
        names,
        [
            "indices.npy",
            "indptr.npy",
            "format.npy",
            "shape.npy",
            "data.npy"
        ]
    );
    // Each member is byte for byte what the hand-built (numpy-layout) members are.
    for e in small_entries() {
        let mut f = archive.by_name(e.name).unwrap();
        assert_eq!(f.compression(), CompressionMethod::Stored, "{}", e.name);
        let mut got = Vec::new();
        f.read_to_end(&mut got).unwrap();
        assert_eq!(got, e.bytes, "{}", e.name);
    }
}

#[test]
fn writes_files_atomically_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("K.npz");
    let graph = knn(50, 3, 4);
    write_csr(&path, &graph, Overwrite::Refuse).unwrap();
    assert_eq!(read_csr(&path).unwrap(), graph);
    let err = write_csr(&path, &expected_small(), Overwrite::Refuse).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(!err.is_write_failure());
    assert_eq!(read_csr(&path).unwrap(), graph);
    write_csr(&path, &expected_small(), Overwrite::Allow).unwrap();
    assert_eq!(read_csr(&path).unwrap(), expected_small());
    let missing = read_csr(&dir.path().join("none.npz")).unwrap_err();
    assert!(
        missing.to_string().contains("cannot open file"),
        "{missing}"
    );
}

#[test]
fn reads_hand_built_stored_and_deflated_archives() {
    assert_eq!(read(&zip(&small_entries())).unwrap(), expected_small());
    let mut deflated = small_entries();
    for e in &mut deflated {
        e.deflate = true;
    }
    assert_eq!(read(&zip(&deflated)).unwrap(), expected_small());
}

#[test]
fn converts_wide_dtypes_and_other_formats() {
    let (indptr, indices, data) = small();
    let wide = |v: &[i32]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    let mut entries = small_entries();
    entries[0].bytes = i64s(&wide(&indices));
    entries[1].bytes = i64s(&wide(&indptr));
    entries[4].bytes = f64s(&data.iter().map(|&v| v as f64).collect::<Vec<_>>());
    entries.push(entry("_is_array.npy", member("|b1", &[], &[1u8], |b| [b])));
    assert_eq!(read(&zip(&entries)).unwrap(), expected_small());

    // The same matrix as COO, entries shuffled, one split into two parts that are summed.
    let coo = zip(&[
        entry("row.npy", i32s(&[3, 0, 1, 2, 1, 0, 1])),
        entry("col.npy", i32s(&[0, 1, 2, 1, 0, 3, 2])),
        entry("format.npy", text("|S3", b"coo")),
        entry("shape.npy", i64s(&[4, 4])),
        entry("data.npy", f32s(&[1.0, 0.5, 0.125, 0.25, 0.5, 1.0, 0.125])),
    ]);
    assert_eq!(read(&coo).unwrap(), expected_small());

    // CSC of a symmetric matrix holds the same arrays; a unicode format string is accepted.
    let mut csc = small_entries();
    csc[2].bytes = member("<U3", &[], &[99u32, 115, 99], u32::to_le_bytes);
    assert_eq!(read(&zip(&csc)).unwrap(), expected_small());

    // A CSR with an unsorted row is sorted.
    let unsorted = zip(&[
        entry("indices.npy", i32s(&[3, 1, 0, 2, 1, 0])),
        entry("indptr.npy", i32s(&indptr)),
        entry("format.npy", text("|S3", b"csr")),
        entry("shape.npy", i64s(&[4, 4])),
        entry("data.npy", f32s(&[1.0, 0.5, 0.5, 0.25, 0.25, 1.0])),
    ]);
    assert_eq!(read(&unsorted).unwrap(), expected_small());
}

#[test]
fn corrupt_archives_are_named() {
    let good = zip(&small_entries());
    for cut in [good.len() - 10, good.len() / 2, 30] {
        let msg = error(&good[..cut]);
        assert!(msg.contains("truncated"), "cut {cut}: {msg}");
        assert!(msg.starts_with("K.npz: "), "{msg}");
    }
    assert!(error(&[]).contains("empty"));
    assert!(error(b"\x93NUMPY\x01\x00").contains("not a zip archive"));

    // A stored CRC that does not match the data.
    let mut entries = small_entries();
    entries[1].crc = Some(0xDEAD_BEEF);
    let msg = error(&zip(&entries));
    assert!(
        msg.contains("'indptr.npy'") && msg.contains("CRC-32 checksum mismatch"),
        "{msg}"
    );
    // A damaged byte inside a stored member.
    let written = csr_to_npz_bytes(Path::new(P), &expected_small()).unwrap();
    let data_at = written
        .windows(4)
        .position(|w| w == 0.25f32.to_le_bytes())
        .unwrap();
    let mut damaged = written.clone();
    damaged[data_at + 3] ^= 0x40;
    let msg = error(&damaged);
    assert!(
        msg.contains("'data.npy'") && msg.contains("CRC-32"),
        "{msg}"
    );
}

#[test]
fn missing_members_and_bad_formats_are_named() {
    let mut entries = small_entries();
    entries.remove(1);
    let msg = error(&zip(&entries));
    assert!(
        msg.contains("missing member 'indptr.npy'") && msg.contains("'indices.npy'"),
        "{msg}"
    );
    let msg = error(&with("format.npy", text("|S3", b"dia")));
    assert!(msg.contains("unsupported sparse format 'dia'"), "{msg}");
    let msg = error(&with("format.npy", i64s(&[1])));
    assert!(
        msg.contains("K.npz:format.npy") && msg.contains("unsupported dtype"),
        "{msg}"
    );
    let msg = error(&with("shape.npy", i64s(&[4, 5])));
    assert!(msg.contains("4×5") && msg.contains("square"), "{msg}");
    let msg = error(&with("shape.npy", i64s(&[4, 4, 1])));
    assert!(
        msg.contains("shape.npy") && msg.contains("2 entries"),
        "{msg}"
    );
    let msg = error(&with("shape.npy", i64s(&[-4, -4])));
    assert!(msg.contains("non-negative"), "{msg}");
}

#[test]
fn bad_values_are_named() {
    let (_, _, data) = small();
    let mut nan = data.clone();
    nan[2] = f32::NAN;
    let msg = error(&with("data.npy", f32s(&nan)));
    assert!(msg.contains("non-finite value (NaN) at index 2"), "{msg}");
    let mut inf = data.iter().map(|&v| v as f64).collect::<Vec<_>>();
    inf[4] = f64::INFINITY;
    let msg = error(&with("data.npy", f64s(&inf)));
    assert!(msg.contains("non-finite value (inf) at index 4"), "{msg}");

    let mut asym = data.clone();
    asym[0] = 0.75;
    let msg = error(&with("data.npy", f32s(&asym)));
    assert!(
        msg.contains("not symmetric") && msg.contains("K[0,1]"),
        "{msg}"
    );
    let mut negative = data.clone();
    negative[0] = -0.5;
    negative[2] = -0.5;
    assert!(error(&with("data.npy", f32s(&negative))).contains("≥ 0"));

    let msg = error(&with("data.npy", i32s(&[1, 1, 1, 1, 1, 1])));
    assert!(
        msg.contains("K.npz:data.npy") && msg.contains("float32"),
        "{msg}"
    );
    let msg = error(&with("indices.npy", f32s(&[1.0, 3.0, 0.0, 2.0, 1.0, 0.0])));
    assert!(
        msg.contains("K.npz:indices.npy") && msg.contains("unsupported dtype"),
        "{msg}"
    );
    let msg = error(&with("indices.npy", i32s(&[1, 9, 0, 2, 1, 0])));
    assert!(
        msg.contains("entry 1 is 9") && msg.contains("0..4"),
        "{msg}"
    );
    let msg = error(&with("indices.npy", i32s(&[1, 3])));
    assert!(msg.contains("has 2 entries but data.npy has 6"), "{msg}");
    let msg = error(&with("indptr.npy", i32s(&[0, 2, 4, 6])));
    assert!(
        msg.contains("indptr.npy") && msg.contains("n + 1 = 5"),
        "{msg}"
    );
    let msg = error(&with("indptr.npy", i32s(&[0, 4, 2, 5, 6])));
    assert!(msg.contains("decreases at position 1"), "{msg}");

    // A non-zero diagonal.
    let diagonal = zip(&[
        entry("indices.npy", i32s(&[0])),
        entry("indptr.npy", i32s(&[0, 1, 1])),
        entry("format.npy", text("|S3", b"csr")),
        entry("shape.npy", i64s(&[2, 2])),
        entry("data.npy", f32s(&[1.0])),
    ]);
    assert!(error(&diagonal).contains("diagonal"));
}
