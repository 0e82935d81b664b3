//! Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
//!
//! The header's dict is parsed by `py_literal` and the elements are decoded by `ndarray-npy`
//! (which also views mapped files in place, see [`crate::npy_map`]). What is this project's own
//! stays here: every failure on an untrusted file is an [`NpyError`] that names the file, what
//! was expected and what was found; the sizes a header claims are checked against the file's
//! real length before anything is allocated from them; float64 is narrowed to f32 with a range
//! check, and every integer dtype and bool is widened to i64.
//!
//! Writers produce version 1.0 files laid out byte for byte as `numpy.save` does (ndarray-npy's
//! writer leaves out NumPy's spare spaces for the growth axis), and replace their target
//! atomically (see [`write_atomic`]).

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use ndarray::{Array, Array2, Array3, Dimension, Ix2, Ix3, ShapeBuilder};
use ndarray_npy::{ReadableElement, ViewElement};
use py_literal::Value as PyValue;

mod dtype;
pub(crate) mod error;
mod header;
pub(crate) mod overwrite;
mod write;

pub use dtype::{Dtype, Endian};
pub use error::NpyError;
use error::{bad_header, io_err};
pub(crate) use header::{header_fields, split_descr, unsupported};
use header::{parse_header, parse_prefix};
pub use header::{Header, MAX_HEADER_LEN};
pub use overwrite::Overwrite;
pub(crate) use write::npy_file;
pub use write::{
    i64_vector_bytes, u8_matrix_bytes, write_atomic, write_f32_matrix, write_f32_vector,
    write_f64_matrix, write_i64_vector, write_u8_matrix,
};

/// What the float readers accept.
const FLOAT_DTYPES: &str = "float32 ('<f4') or float64 ('<f8')";

/// What the integer reader accepts.
const INT_DTYPES: &str = "an integer or bool dtype ('|i1', '<i2', '<i4', '<i8', '|u1', '<u2', \
     '<u4', '<u8', '|b1')";

/// Reads and validates the header of the `.npy` file at `path`, without reading the data.
///
/// Besides parsing the header this checks, using the file's length from its metadata, that the
/// file holds exactly as many data bytes as the shape and dtype call for, so a successful
/// result describes a file whose data can be read or mapped safely.
pub fn read_header(path: &Path) -> Result<Header, NpyError> {
    let mut file = File::open(path).map_err(io_err(path, "open file"))?;
    let file_len = file
        .metadata()
        .map_err(io_err(path, "read file metadata"))?
        .len();
    let mut bytes = Vec::with_capacity(12);
    (&mut file)
        .take(12)
        .read_to_end(&mut bytes)
        .map_err(io_err(path, "read file"))?;
    let end = parse_prefix(path, &bytes)?.data_offset;
    if file_len < end as u64 {
        return Err(NpyError::Truncated {
            path: path.to_path_buf(),
            part: "header",
            expected_bytes: end as u64,
            found_bytes: file_len,
        });
    }
    // `end` is at most 12 + MAX_HEADER_LEN, and the file is known to be at least that long.
    let rest = end.saturating_sub(bytes.len());
    bytes.reserve_exact(rest);
    file.take(rest as u64)
        .read_to_end(&mut bytes)
        .map_err(io_err(path, "read file"))?;
    let header = parse_header(path, &bytes)?;
    let expected = header.data_len().ok_or_else(|| NpyError::TooLarge {
        path: path.to_path_buf(),
        shape: header.shape.clone(),
        itemsize: header.dtype.itemsize(),
    })?;
    check_data_bytes(path, expected as u64, file_len - header.data_offset as u64)?;
    Ok(header)
}

/// `found` data bytes where the header calls for `expected`: too few is truncation, too many is
/// trailing garbage.
pub(crate) fn check_data_bytes(path: &Path, expected: u64, found: u64) -> Result<(), NpyError> {
    let (expected_bytes, found_bytes, path) = (expected, found, path.to_path_buf());
    match found.cmp(&expected) {
        std::cmp::Ordering::Less => Err(NpyError::Truncated {
            path,
            part: "data",
            expected_bytes,
            found_bytes,
        }),
        std::cmp::Ordering::Greater => Err(NpyError::TrailingBytes {
            path,
            expected_bytes,
            found_bytes,
        }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// Parses a whole `.npy` file held in memory (one on disk, or a member of an `.npz` archive) into
/// its header and data bytes, checked as a file on disk is: a valid header, then exactly as many
/// data bytes as it calls for. `path` names the source in errors.
pub(crate) fn split_file<'b>(path: &Path, bytes: &'b [u8]) -> Result<(Header, &'b [u8]), NpyError> {
    let header = parse_header(path, bytes)?;
    // parse_header has checked that the shape's byte length fits, and that the header is there.
    let data = &bytes[header.data_offset..];
    check_data_bytes(
        path,
        header.data_len().unwrap_or(0) as u64,
        data.len() as u64,
    )?;
    Ok((header, data))
}

/// What a reader accepts: checked on the header, before any data is read.
#[derive(Clone, Copy)]
enum Want {
    FloatMatrix,
    FloatVector,
    FloatArray3,
    IntVector,
}

const MATRIX_SHAPE: &str = "2-D (rows, columns)";
const VECTOR_SHAPE: &str = "1-D (n,) or 2-D (n, 1)";
const ARRAY3_SHAPE: &str = "3-D";

fn check(path: &Path, header: &Header, want: Want) -> Result<(), NpyError> {
    let float = matches!(header.dtype, Dtype::F32 | Dtype::F64);
    let (ok_shape, shape, dtypes) = match (want, header.shape.as_slice()) {
        (Want::FloatMatrix, s) => (s.len() == 2, MATRIX_SHAPE, FLOAT_DTYPES),
        (Want::FloatArray3, s) => (s.len() == 3, ARRAY3_SHAPE, FLOAT_DTYPES),
        (Want::FloatVector, s) => (matches!(s, [_] | [_, 1]), VECTOR_SHAPE, FLOAT_DTYPES),
        (Want::IntVector, s) => (matches!(s, [_] | [_, 1]), VECTOR_SHAPE, INT_DTYPES),
    };
    if float
        != matches!(
            want,
            Want::FloatMatrix | Want::FloatVector | Want::FloatArray3
        )
    {
        return Err(NpyError::UnsupportedDtype {
            path: path.to_path_buf(),
            found: format!("'{}' ({})", header.descr(), header.dtype.name()),
            expected: dtypes,
        });
    }
    if !ok_shape {
        return Err(NpyError::WrongDimensions {
            path: path.to_path_buf(),
            expected: shape,
            found: header.shape.clone(),
        });
    }
    Ok(())
}

/// The whole file at `path`, read only once its header (including the file's length) has been
/// found to be what `want` accepts; the bytes are parsed again, as the file may have changed.
fn read_file(path: &Path, want: Want) -> Result<Vec<u8>, NpyError> {
    check(path, &read_header(path)?, want)?;
    fs::read(path).map_err(io_err(path, "read file"))
}

/// The header and data of a file in memory that `want` accepts.
fn split_checked<'b>(
    path: &Path,
    bytes: &'b [u8],
    want: Want,
) -> Result<(Header, &'b [u8]), NpyError> {
    let (header, data) = split_file(path, bytes)?;
    check(path, &header, want)?;
    Ok((header, data))
}

/// The elements of `data` (exactly the bytes a checked header calls for), decoded by ndarray-npy
/// from `descr` as it spells it (`<f4`, `>i8`, `|u1`, see [`descr_value`]).
pub(crate) fn decode<T: ReadableElement>(
    path: &Path,
    descr: &PyValue,
    data: &[u8],
) -> Result<Vec<T>, NpyError> {
    let len = data.len() / std::mem::size_of::<T>();
    T::read_to_end_exact_vec(data, descr, len)
        .map_err(|e| bad_header(path, format!("the data does not match the header: {e}")))
}

/// The elements of `data` as [`decode`] gives them, but viewed in place where ndarray-npy allows
/// (this machine's byte order, aligned), so a large file is not held twice while it is converted.
fn elements<'d, T: ReadableElement + ViewElement + Clone>(
    path: &Path,
    header: &Header,
    data: &'d [u8],
) -> Result<Cow<'d, [T]>, NpyError> {
    let descr = descr_value(&header.descr());
    match T::bytes_as_slice(data, &descr, data.len() / std::mem::size_of::<T>()) {
        Ok(values) => Ok(Cow::Borrowed(values)),
        Err(_) => decode(path, &descr, data).map(Cow::Owned),
    }
}

/// A dtype string as ndarray-npy takes it.
pub(crate) fn descr_value(descr: &str) -> PyValue {
    PyValue::String(descr.into())
}

/// `value` as f32, or `None` for a finite value outside the f32 range (NaN and infinities pass
/// through so the caller can report them in context).
pub(crate) fn narrow(value: f64) -> Option<f32> {
    let narrow = value as f32;
    (narrow.is_finite() || !value.is_finite()).then_some(narrow)
}

/// The index along each axis of the element stored at position `flat`.
fn unravel(mut flat: usize, shape: &[usize], fortran_order: bool) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    let mut axes: Vec<usize> = (0..shape.len()).collect();
    if !fortran_order {
        axes.reverse();
    }
    for axis in axes {
        let len = shape[axis].max(1);
        index[axis] = flat % len;
        flat /= len;
    }
    index
}

/// The values of a float32 or float64 array (any shape) as `f32`, in storage order, converted as
/// [`read_f32_matrix`] does (NaN and infinities pass through); any other dtype is an
/// [`NpyError::UnsupportedDtype`] error.
pub(crate) fn float_data(path: &Path, header: &Header, data: &[u8]) -> Result<Vec<f32>, NpyError> {
    match header.dtype {
        Dtype::F32 => elements(path, header, data).map(Cow::into_owned),
        Dtype::F64 => elements::<f64>(path, header, data)?
            .iter()
            .enumerate()
            .map(|(i, &value)| {
                narrow(value).ok_or_else(|| NpyError::NotRepresentable {
                    path: path.to_path_buf(),
                    index: unravel(i, &header.shape, header.fortran_order),
                    value,
                })
            })
            .collect(),
        _ => Err(unsupported(path, &header.descr(), FLOAT_DTYPES)),
    }
}

/// The values of an integer or bool array (any shape) as `i64`, in storage order; a float dtype is
/// an [`NpyError::UnsupportedDtype`] error.
pub(crate) fn int_data(path: &Path, header: &Header, data: &[u8]) -> Result<Vec<i64>, NpyError> {
    fn widen<T: ReadableElement + ViewElement + Copy + Into<i64>>(
        path: &Path,
        header: &Header,
        data: &[u8],
    ) -> Result<Vec<i64>, NpyError> {
        Ok(elements::<T>(path, header, data)?
            .iter()
            .map(|&v| v.into())
            .collect())
    }
    match header.dtype {
        Dtype::I8 => widen::<i8>(path, header, data),
        Dtype::I16 => widen::<i16>(path, header, data),
        Dtype::I32 => widen::<i32>(path, header, data),
        Dtype::I64 => widen::<i64>(path, header, data),
        Dtype::U8 => widen::<u8>(path, header, data),
        Dtype::U16 => widen::<u16>(path, header, data),
        Dtype::U32 => widen::<u32>(path, header, data),
        Dtype::U64 => elements::<u64>(path, header, data)?
            .iter()
            .enumerate()
            .map(|(index, &value)| {
                i64::try_from(value).map_err(|_| NpyError::IntOutOfRange {
                    path: path.to_path_buf(),
                    index,
                    value,
                })
            })
            .collect(),
        // Any non-zero byte is true, as NumPy reads it (ndarray-npy refuses all but 0 and 1).
        Dtype::Bool => Ok(data.iter().map(|&b| i64::from(b != 0)).collect()),
        Dtype::F32 | Dtype::F64 => Err(unsupported(path, &header.descr(), INT_DTYPES)),
    }
}

/// Shapes storage-order values into a C-order array.
fn c_order_array<D: Dimension>(
    path: &Path,
    dim: D,
    fortran_order: bool,
    values: Vec<f32>,
) -> Result<Array<f32, D>, NpyError> {
    let mismatch =
        |e: ndarray::ShapeError| bad_header(path, format!("shape does not match the data: {e}"));
    let stored =
        Array::from_shape_vec(dim.clone().set_f(fortran_order), values).map_err(mismatch)?;
    if !fortran_order {
        return Ok(stored);
    }
    // Iteration is in logical order, so collecting yields the C-order layout.
    Array::from_shape_vec(dim, stored.iter().copied().collect()).map_err(mismatch)
}

fn f32_matrix_from_bytes(path: &Path, bytes: &[u8]) -> Result<Array2<f32>, NpyError> {
    let (header, data) = split_checked(path, bytes, Want::FloatMatrix)?;
    let dim = Ix2(header.shape[0], header.shape[1]);
    c_order_array(
        path,
        dim,
        header.fortran_order,
        float_data(path, &header, data)?,
    )
}

fn f32_vector_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<f32>, NpyError> {
    let (header, data) = split_checked(path, bytes, Want::FloatVector)?;
    // (n,) and (n, 1) have the same layout in either order.
    float_data(path, &header, data)
}

fn f32_array3_from_bytes(path: &Path, bytes: &[u8]) -> Result<Array3<f32>, NpyError> {
    let (header, data) = split_checked(path, bytes, Want::FloatArray3)?;
    let dim = Ix3(header.shape[0], header.shape[1], header.shape[2]);
    c_order_array(
        path,
        dim,
        header.fortran_order,
        float_data(path, &header, data)?,
    )
}

fn i64_vector_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<i64>, NpyError> {
    let (header, data) = split_checked(path, bytes, Want::IntVector)?;
    int_data(path, &header, data)
}

/// Reads a 2-D float32 or float64 array as a C-order `f32` matrix.
///
/// float64 values are rounded to f32; a finite value outside the f32 range is a
/// [`NpyError::NotRepresentable`] error, while NaN and infinities pass through unchanged so the
/// caller can report them with their index. Fortran-order data is transposed into C order.
pub fn read_f32_matrix(path: &Path) -> Result<Array2<f32>, NpyError> {
    f32_matrix_from_bytes(path, &read_file(path, Want::FloatMatrix)?)
}

/// Reads a 1-D float32/float64 array of any length (a 2-D `(n, 1)` array is also accepted),
/// converting as [`read_f32_matrix`] does.
pub fn read_f32_vector(path: &Path) -> Result<Vec<f32>, NpyError> {
    f32_vector_from_bytes(path, &read_file(path, Want::FloatVector)?)
}

/// Reads a 3-D float32/float64 array (e.g. T × n × C), in C or Fortran order, into a C-order
/// `f32` array, converting as [`read_f32_matrix`] does.
pub fn read_f32_array3(path: &Path) -> Result<Array3<f32>, NpyError> {
    f32_array3_from_bytes(path, &read_file(path, Want::FloatArray3)?)
}

/// Reads a 1-D array of any integer dtype or bool as `i64` (a 2-D `(n, 1)` array is also
/// accepted); bools become 0 or 1 and uint64 values above `i64::MAX` are an
/// [`NpyError::IntOutOfRange`] error.
pub fn read_i64_vector(path: &Path) -> Result<Vec<i64>, NpyError> {
    i64_vector_from_bytes(path, &read_file(path, Want::IntVector)?)
}

/// Every reader over in-memory file contents: the fuzz target's entry point and what the
/// regression corpus replays. Each reader must return `Ok` or `Err` (never panic, never allocate
/// for a size the bytes do not hold); returns how many accepted the bytes.
pub fn exercise_readers(bytes: &[u8]) -> usize {
    let path = Path::new("<fuzz input>");
    [
        f32_matrix_from_bytes(path, bytes).is_ok(),
        f32_vector_from_bytes(path, bytes).is_ok(),
        f32_array3_from_bytes(path, bytes).is_ok(),
        i64_vector_from_bytes(path, bytes).is_ok(),
    ]
    .iter()
    .filter(|&&ok| ok)
    .count()
}
