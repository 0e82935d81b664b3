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

use crate::npy::{self, Header, NpyError, Overwrite};
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
        npy::scalar_string_from_bytes(&member, &bytes)?
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

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::DeflateEncoder;
    use flate2::{Compression, Crc};
    use infoprune_core::knn::{knn_graph, KnnConfig};
    use infoprune_core::progress::Silent;
    use ndarray::Array2;

    const P: &str = "K.npz";

    /// A `.npy` member in memory.
    fn member<T, const N: usize>(
        descr: &str,
        shape: &[usize],
        values: &[T],
        to_le: impl Fn(T) -> [u8; N],
    ) -> Vec<u8>
    where
        T: Copy,
    {
        npy::npy_file(Path::new("m"), descr, shape, values.iter().copied(), to_le).unwrap()
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
}
