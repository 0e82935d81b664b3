//! SciPy-compatible `.npz` files holding a sparse similarity matrix `K`.
//!
//! The layout is the one `scipy.sparse.save_npz` writes: a zip archive whose members are `.npy`
//! files,
//!
//! | member | content |
//! | --- | --- |
//! | `indices.npy` | column index of every stored entry, `int32` (`int64` if it would not fit) |
//! | `indptr.npy` | row pointers, `n + 1` entries, same dtype as `indices` |
//! | `format.npy` | a 0-d byte string (`|S3`) holding `b"csr"` |
//! | `shape.npy` | `int64`, `[n, n]` |
//! | `data.npy` | the values, `float32` |
//!
//! [`write_csr`] writes exactly that, uncompressed (`ZIP_STORED`, as `save_npz(compressed=False)`
//! and `numpy.savez` do), with fixed timestamps so the bytes depend only on the matrix, and
//! replaces its target atomically (see [`crate::npy::write_atomic`]). `scipy.sparse.load_npz`
//! reads it back as a `csr_matrix`.
//!
//! [`read_csr`] accepts what SciPy writes, stored or deflated (`save_npz`'s default
//! `compressed=True`): format `csr`, and also `csc` and `coo` (converted); indices and row pointers
//! of any integer dtype (`int32` and `int64` in practice); values `float32` or `float64` (rounded to
//! `f32`). Entries repeated within a row are summed, as SciPy does, and rows need not be sorted.
//! The result is built through [`CsrSimilarity::new`], so a matrix that is not square, not
//! symmetric, has a negative or non-finite value or a non-zero diagonal is refused with a message
//! that names the problem, as is a truncated or corrupt archive, a member with a bad checksum, a
//! missing member or one of the wrong dtype or shape.

use crate::npy::{self, Endian, Header, NpyError, Overwrite};
use infoprune_core::csr::{CsrSimilarity, SymmetryCheck};
use infoprune_core::CoreError;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

/// The sparse formats [`read_csr`] accepts, for error messages.
const FORMATS: &str = "'csr' (also accepted: 'csc', 'coo')";

/// Errors from reading or writing `.npz` sparse matrices. Every message names the file (and the
/// member, where one is at fault) and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum NpzError {
    /// The operating system refused to open or read the input.
    #[error("{}: cannot {action}: {source}", .path.display())]
    Io {
        /// The archive.
        path: PathBuf,
        /// What was being attempted.
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is not a readable zip archive (empty, another kind of file, truncated, or its
    /// central directory is damaged).
    #[error("{}: not a readable .npz archive: {reason}", .path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A member of the archive cannot be read (bad CRC-32 checksum, damaged compressed data,
    /// unsupported compression).
    #[error("{}: member '{member}' is corrupt: {reason}", .path.display())]
    CorruptMember {
        /// The archive.
        path: PathBuf,
        /// The member's name in the archive.
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// A member that the sparse format needs is absent.
    #[error(
        "{}: missing member '{member}': a SciPy sparse .npz of format '{format}' holds {needed}; \
         the archive holds [{found}]",
        .path.display()
    )]
    MissingMember {
        /// The archive.
        path: PathBuf,
        /// The missing member's name.
        member: String,
        /// The sparse format (or `?` before it is known).
        format: String,
        /// The members that format needs.
        needed: &'static str,
        /// The members present.
        found: String,
    },
    /// A member is not a valid `.npy` file of an acceptable dtype (its path reads
    /// `archive.npz:member.npy`), or the output could not be written.
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// The sparse format is one this reader does not convert.
    #[error(
        "{}: unsupported sparse format '{format}': expected {FORMATS}",
        .path.display()
    )]
    UnsupportedFormat {
        /// The archive.
        path: PathBuf,
        /// The format the archive declares.
        format: String,
    },
    /// A member has the wrong length or an impossible value (an index out of range, row
    /// pointers that decrease, a negative dimension).
    #[error("{}: {member}: {reason}", .path.display())]
    BadMember {
        /// The archive.
        path: PathBuf,
        /// The member's name.
        member: &'static str,
        /// What is wrong, with what was expected and found.
        reason: String,
    },
    /// The matrix is not square, so it cannot be a similarity between `n` samples.
    #[error(
        "{}: the matrix is {rows}×{cols}: a similarity between n samples must be square (n×n)",
        .path.display()
    )]
    NotSquare {
        /// The archive.
        path: PathBuf,
        /// Rows.
        rows: usize,
        /// Columns.
        cols: usize,
    },
    /// A stored value is NaN or infinite.
    #[error(
        "{}: data.npy has a non-finite value ({value}) at index {index}",
        .path.display()
    )]
    NonFinite {
        /// The archive.
        path: PathBuf,
        /// Position of the value in `data.npy`.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The arrays are well formed but the matrix breaks an invariant of a similarity (asymmetric,
    /// negative value, non-zero diagonal).
    #[error("{}: {source}", .path.display())]
    Invalid {
        /// The archive.
        path: PathBuf,
        /// What the similarity's validation found.
        source: CoreError,
    },
    /// The archive could not be assembled in memory.
    #[error("{}: cannot build the .npz archive: {reason}", .path.display())]
    Encode {
        /// The output.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl NpzError {
    /// Whether this is a failure of the machine while writing an output (exit code 1), as opposed
    /// to a problem with the input or the invocation (exit code 2).
    pub fn is_write_failure(&self) -> bool {
        match self {
            NpzError::Npy(e) => e.is_write_failure(),
            NpzError::Encode { .. } => true,
            _ => false,
        }
    }
}

/// The path errors about one member of `archive` use: `archive.npz:member.npy`.
fn member_path(archive: &Path, member: &str) -> PathBuf {
    let mut text = archive.as_os_str().to_owned();
    text.push(":");
    text.push(member);
    PathBuf::from(text)
}

/// Reads the sparse similarity in the `.npz` file at `path` (see the module docs for what is
/// accepted and checked).
pub fn read_csr(path: &Path) -> Result<CsrSimilarity, NpzError> {
    let file = File::open(path).map_err(|source| NpzError::Io {
        path: path.to_path_buf(),
        action: "open file",
        source,
    })?;
    csr_from_reader(path, BufReader::new(file))
}

/// [`read_csr`] on the bytes of an `.npz` file held in memory; `path` names them in errors.
pub fn csr_from_bytes(path: &Path, bytes: &[u8]) -> Result<CsrSimilarity, NpzError> {
    csr_from_reader(path, Cursor::new(bytes))
}

/// Why a file could not be opened as a zip archive, judged from its first bytes.
fn open_error(path: &Path, head: &[u8], error: ZipError) -> NpzError {
    let reason = if head.is_empty() {
        "the file is empty".to_string()
    } else if !head.starts_with(b"PK") {
        format!(
            "not a zip archive: expected the signature \"PK\\x03\\x04\" at the start, found \"{}\" \
             (an .npz is what scipy.sparse.save_npz writes)",
            head.escape_ascii()
        )
    } else {
        format!("the zip archive is truncated or its central directory is damaged ({error})")
    };
    NpzError::Archive {
        path: path.to_path_buf(),
        reason,
    }
}

/// An open archive and what is needed to name its problems.
struct Archive<'p, R: Read + Seek> {
    path: &'p Path,
    zip: ZipArchive<R>,
    format: String,
}

impl<R: Read + Seek> Archive<'_, R> {
    fn members(&self) -> String {
        self.zip
            .file_names()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The bytes of member `name` (`indptr.npy` …), checked against its CRC-32.
    fn bytes(&mut self, name: &str, needed: &'static str) -> Result<Vec<u8>, NpzError> {
        let corrupt = |reason: String| NpzError::CorruptMember {
            path: self.path.to_path_buf(),
            member: name.to_string(),
            reason,
        };
        let missing = NpzError::MissingMember {
            path: self.path.to_path_buf(),
            member: name.to_string(),
            format: self.format.clone(),
            needed,
            found: self.members(),
        };
        let file = match self.zip.by_name(name) {
            Ok(file) => file,
            Err(ZipError::FileNotFound) => return Err(missing),
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let declared = file.size();
        let mut bytes = Vec::new();
        // Never more than the member declares (plus one byte to notice a lie): a damaged or
        // hostile deflate stream cannot make the reader buffer without bound.
        let read = file
            .take(declared.saturating_add(1))
            .read_to_end(&mut bytes);
        match read {
            Ok(_) if bytes.len() as u64 == declared => Ok(bytes),
            Ok(_) => Err(corrupt(format!(
                "it holds more than the {declared} bytes its header declares"
            ))),
            Err(e) if e.to_string().contains("checksum") => Err(corrupt(format!(
                "CRC-32 checksum mismatch: its {declared} bytes are damaged"
            ))),
            Err(e) => Err(corrupt(format!("cannot decompress it: {e}"))),
        }
    }

    /// Member `name` and the path that names it in errors (`archive.npz:member.npy`).
    fn npy(&mut self, name: &str, needed: &'static str) -> Result<(PathBuf, Vec<u8>), NpzError> {
        Ok((member_path(self.path, name), self.bytes(name, needed)?))
    }

    /// A 1-D integer member.
    fn ints(&mut self, name: &str, needed: &'static str) -> Result<Vec<i64>, NpzError> {
        self.vector(name, needed, npy::int_data)
    }

    /// A 1-D float member, as `f32`.
    fn floats(&mut self, name: &str, needed: &'static str) -> Result<Vec<f32>, NpzError> {
        self.vector(name, needed, npy::float_data)
    }

    /// A 1-D member, its values read by `decode`.
    fn vector<T>(
        &mut self,
        name: &str,
        needed: &'static str,
        decode: DecodeMember<T>,
    ) -> Result<Vec<T>, NpzError> {
        let (path, bytes) = self.npy(name, needed)?;
        let (header, data) = npy::split_file(&path, &bytes)?;
        require_1d(&path, &header)?;
        Ok(decode(&path, &header, data)?)
    }
}

/// Reads the values of one `.npy` member from its header and data bytes.
type DecodeMember<T> = fn(&Path, &Header, &[u8]) -> Result<Vec<T>, NpyError>;

fn require_1d(path: &Path, header: &Header) -> Result<(), NpyError> {
    if header.shape.len() == 1 {
        Ok(())
    } else {
        Err(NpyError::WrongDimensions {
            path: path.to_path_buf(),
            expected: "1-D",
            found: header.shape.clone(),
        })
    }
}

/// What `format.npy` may hold.
const STRING_DTYPES: &str = "a byte string ('|S<width>') or a unicode string ('<U<width>')";

/// The one string of `format.npy`: a 0-d byte-string (`|S<w>`) or unicode (`<U<w>`) array, with
/// the trailing NULs NumPy pads it with removed (bytes that are not UTF-8 are replaced).
fn format_string(path: &Path, bytes: &[u8]) -> Result<String, NpyError> {
    let (prefix, (unicode, width), _, shape) = npy::header_fields(path, bytes, |descr| {
        let (order, code) = npy::split_descr(descr);
        let width = code.get(1..).and_then(|w| w.parse::<usize>().ok());
        match (code.get(..1), width) {
            // Bytes have no byte order; unicode is one uint32 code point per character.
            (Some("S" | "a"), Some(width)) => Ok((None, width)),
            (Some("U"), Some(width)) => Ok((
                Some(match Endian::of(order) {
                    Endian::Little => "<u4",
                    Endian::Big => ">u4",
                }),
                width,
            )),
            _ => Err(npy::unsupported(path, descr, STRING_DTYPES)),
        }
    })?;
    if !shape.is_empty() {
        return Err(NpyError::WrongDimensions {
            path: path.to_path_buf(),
            expected: "0-d (a single string)",
            found: shape,
        });
    }
    let unit = if unicode.is_some() { 4 } else { 1 };
    let expected = width.checked_mul(unit).ok_or_else(|| NpyError::TooLarge {
        path: path.to_path_buf(),
        shape: Vec::new(),
        itemsize: width,
    })?;
    // header_fields has checked that the whole header is there.
    let data = &bytes[prefix.data_offset..];
    npy::check_data_bytes(path, expected as u64, data.len() as u64)?;
    let text: String = match unicode {
        None => String::from_utf8_lossy(data).into_owned(),
        Some(descr) => npy::decode::<u32>(path, &npy::descr_value(descr), data)?
            .into_iter()
            .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    };
    Ok(text.trim_end_matches('\0').to_owned())
}

const CSR_MEMBERS: &str = "'indices.npy', 'indptr.npy', 'format.npy', 'shape.npy', 'data.npy'";
const COO_MEMBERS: &str = "'row.npy', 'col.npy', 'format.npy', 'shape.npy', 'data.npy'";

fn csr_from_reader<R: Read + Seek>(path: &Path, mut reader: R) -> Result<CsrSimilarity, NpzError> {
    let io_error = |source| NpzError::Io {
        path: path.to_path_buf(),
        action: "read file",
        source,
    };
    let mut head = Vec::with_capacity(4);
    (&mut reader)
        .take(4)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    reader.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let zip = ZipArchive::new(reader).map_err(|e| open_error(path, &head, e))?;
    let mut archive = Archive {
        path,
        zip,
        format: "?".into(),
    };

    let format = {
        let (member, bytes) = archive.npy("format.npy", CSR_MEMBERS)?;
        format_string(&member, &bytes)?
    };
    archive.format = format.clone();
    let needed = match format.as_str() {
        "csr" | "csc" => CSR_MEMBERS,
        "coo" => COO_MEMBERS,
        _ => {
            return Err(NpzError::UnsupportedFormat {
                path: path.to_path_buf(),
                format: format.escape_default().to_string(),
            })
        }
    };
    let n = square_shape(path, &archive.ints("shape.npy", needed)?)?;
    let data = archive.floats("data.npy", needed)?;
    if let Some(index) = data.iter().position(|v| !v.is_finite()) {
        return Err(NpzError::NonFinite {
            path: path.to_path_buf(),
            index,
            value: data[index] as f64,
        });
    }
    let invalid = |source| NpzError::Invalid {
        path: path.to_path_buf(),
        source,
    };
    match format.as_str() {
        "coo" => {
            let rows = archive.ints("row.npy", needed)?;
            let cols = archive.ints("col.npy", needed)?;
            same_len(path, "row.npy", rows.len(), data.len())?;
            same_len(path, "col.npy", cols.len(), data.len())?;
            let rows = to_indices(path, "row.npy", &rows, n)?;
            let cols = to_indices(path, "col.npy", &cols, n)?;
            from_triplets(n, &rows, &cols, &data).map_err(invalid)
        }
        major => {
            let indices = archive.ints("indices.npy", needed)?;
            let indptr = archive.ints("indptr.npy", needed)?;
            same_len(path, "indices.npy", indices.len(), data.len())?;
            let indices = to_indices(path, "indices.npy", &indices, n)?;
            let indptr = to_indptr(path, &indptr, n, data.len())?;
            let canonical = indptr
                .windows(2)
                .all(|w| indices[w[0]..w[1]].windows(2).all(|p| p[0] < p[1]));
            if major == "csr" && canonical {
                CsrSimilarity::new(n, indptr, indices, data, SymmetryCheck::Require)
                    .map_err(invalid)
            } else {
                // Expand the compressed axis: row i of a CSR, column j of a CSC.
                let mut major_index = Vec::with_capacity(indices.len());
                for (i, w) in indptr.windows(2).enumerate() {
                    major_index.extend(std::iter::repeat_n(i as u32, w[1] - w[0]));
                }
                let (rows, cols) = if major == "csr" {
                    (major_index, indices)
                } else {
                    (indices, major_index)
                };
                from_triplets(n, &rows, &cols, &data).map_err(invalid)
            }
        }
    }
}

/// `n` from a `shape` of `[n, n]`.
fn square_shape(path: &Path, shape: &[i64]) -> Result<usize, NpzError> {
    let bad = |reason: String| NpzError::BadMember {
        path: path.to_path_buf(),
        member: "shape.npy",
        reason,
    };
    let &[rows, cols] = shape else {
        return Err(bad(format!(
            "expected 2 entries (rows, columns), found {}",
            shape.len()
        )));
    };
    let dim = |v: i64| {
        usize::try_from(v).map_err(|_| {
            bad(format!(
                "expected non-negative dimensions, found {rows}×{cols}"
            ))
        })
    };
    let (rows, cols) = (dim(rows)?, dim(cols)?);
    if rows != cols {
        return Err(NpzError::NotSquare {
            path: path.to_path_buf(),
            rows,
            cols,
        });
    }
    if rows > u32::MAX as usize {
        return Err(bad(format!(
            "n = {rows} exceeds the {} samples a similarity can index",
            u32::MAX
        )));
    }
    Ok(rows)
}

fn same_len(path: &Path, member: &'static str, len: usize, nnz: usize) -> Result<(), NpzError> {
    if len == nnz {
        return Ok(());
    }
    Err(NpzError::BadMember {
        path: path.to_path_buf(),
        member,
        reason: format!("has {len} entries but data.npy has {nnz}: expected one per stored value"),
    })
}

/// Indices in `0..n` as `u32` (`n ≤ u32::MAX` is checked with the shape).
fn to_indices(
    path: &Path,
    member: &'static str,
    values: &[i64],
    n: usize,
) -> Result<Vec<u32>, NpzError> {
    values
        .iter()
        .enumerate()
        .map(|(p, &v)| match u32::try_from(v) {
            Ok(j) if (j as usize) < n => Ok(j),
            _ => Err(NpzError::BadMember {
                path: path.to_path_buf(),
                member,
                reason: format!("entry {p} is {v}: expected an index in 0..{n}"),
            }),
        })
        .collect()
}

/// Row (or column) pointers: `n + 1` non-decreasing offsets from 0 to `nnz`.
fn to_indptr(path: &Path, values: &[i64], n: usize, nnz: usize) -> Result<Vec<usize>, NpzError> {
    let bad = |reason: String| NpzError::BadMember {
        path: path.to_path_buf(),
        member: "indptr.npy",
        reason,
    };
    if values.len() != n + 1 {
        return Err(bad(format!(
            "has {} entries: expected n + 1 = {} for shape {n}×{n}",
            values.len(),
            n + 1
        )));
    }
    if values[0] != 0 || values[n] != nnz as i64 {
        return Err(bad(format!(
            "runs from {} to {}: expected 0 to nnz = {nnz}",
            values[0], values[n]
        )));
    }
    if let Some(i) = (0..n).find(|&i| values[i] > values[i + 1]) {
        return Err(bad(format!(
            "decreases at position {i} ({} then {})",
            values[i],
            values[i + 1]
        )));
    }
    // Non-decreasing from 0 to nnz: every entry is in 0..=nnz.
    Ok(values.iter().map(|&v| v as usize).collect())
}

/// A validated CSR from coordinates in range: each row's entries sorted by column, repeated
/// coordinates summed (SciPy's convention), then checked by [`CsrSimilarity::new`].
fn from_triplets(
    n: usize,
    rows: &[u32],
    cols: &[u32],
    values: &[f32],
) -> Result<CsrSimilarity, CoreError> {
    let mut indptr = vec![0usize; n + 1];
    for &i in rows {
        indptr[i as usize + 1] += 1;
    }
    for i in 0..n {
        indptr[i + 1] += indptr[i];
    }
    let mut next = indptr.clone();
    let mut entries = vec![(0u32, 0f32); values.len()];
    for ((&i, &j), &v) in rows.iter().zip(cols).zip(values) {
        let slot = &mut next[i as usize];
        entries[*slot] = (j, v);
        *slot += 1;
    }
    let mut out_ptr = Vec::with_capacity(n + 1);
    let mut out_cols = Vec::with_capacity(values.len());
    let mut out_vals: Vec<f32> = Vec::with_capacity(values.len());
    out_ptr.push(0);
    for i in 0..n {
        let row = &mut entries[indptr[i]..indptr[i + 1]];
        row.sort_by_key(|&(j, _)| j);
        let start = out_cols.len();
        for &(j, v) in row.iter() {
            if out_cols.len() > start && out_cols.last() == Some(&j) {
                *out_vals.last_mut().expect("an entry was pushed") += v;
            } else {
                out_cols.push(j);
                out_vals.push(v);
            }
        }
        out_ptr.push(out_cols.len());
    }
    CsrSimilarity::new(n, out_ptr, out_cols, out_vals, SymmetryCheck::Require)
}

/// The bytes of the `.npz` file [`write_csr`] writes; `path` names the output in errors.
pub fn csr_to_npz_bytes(path: &Path, graph: &CsrSimilarity) -> Result<Vec<u8>, NpzError> {
    let n = graph.n();
    let nnz = graph.nnz();
    // SciPy's rule: int32 indices unless the dimensions or the entry count do not fit.
    let wide = n > i32::MAX as usize || nnz > i32::MAX as usize;
    let member = |name: &str| member_path(path, name);
    let (indices, indptr) = if wide {
        (
            npy::npy_file(
                &member("indices.npy"),
                "<i8",
                &[nnz],
                graph.indices().iter().map(|&j| j as i64),
                i64::to_le_bytes,
            )?,
            npy::npy_file(
                &member("indptr.npy"),
                "<i8",
                &[n + 1],
                graph.indptr().iter().map(|&p| p as i64),
                i64::to_le_bytes,
            )?,
        )
    } else {
        (
            npy::npy_file(
                &member("indices.npy"),
                "<i4",
                &[nnz],
                graph.indices().iter().map(|&j| j as i32),
                i32::to_le_bytes,
            )?,
            npy::npy_file(
                &member("indptr.npy"),
                "<i4",
                &[n + 1],
                graph.indptr().iter().map(|&p| p as i32),
                i32::to_le_bytes,
            )?,
        )
    };
    let format = npy::npy_file(
        &member("format.npy"),
        "|S3",
        &[],
        b"csr".iter().copied(),
        |b| [b],
    )?;
    let shape = npy::npy_file(
        &member("shape.npy"),
        "<i8",
        &[2],
        [n as i64, n as i64].into_iter(),
        i64::to_le_bytes,
    )?;
    let data = npy::npy_file(
        &member("data.npy"),
        "<f4",
        &[nnz],
        graph.values().iter().copied(),
        f32::to_le_bytes,
    )?;

    let encode = |e: &dyn std::fmt::Display| NpzError::Encode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    // save_npz's member order.
    let members = [
        ("indices.npy", indices),
        ("indptr.npy", indptr),
        ("format.npy", format),
        ("shape.npy", shape),
        ("data.npy", data),
    ];
    let total: usize = members.iter().map(|(_, b)| b.len() + 128).sum();
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(total + 1024)));
    for (name, bytes) in &members {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(DateTime::default())
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        zip.start_file(*name, options).map_err(|e| encode(&e))?;
        zip.write_all(bytes).map_err(|e| encode(&e))?;
    }
    Ok(zip.finish().map_err(|e| encode(&e))?.into_inner())
}

/// Writes `graph` to `path` as SciPy's `save_npz(path, K, compressed=False)` would (see the module
/// docs), atomically; with [`Overwrite::Refuse`] an existing file is an error.
pub fn write_csr(path: &Path, graph: &CsrSimilarity, overwrite: Overwrite) -> Result<(), NpzError> {
    let bytes = csr_to_npz_bytes(path, graph)?;
    npy::write_atomic(path, &bytes, overwrite)?;
    Ok(())
}
