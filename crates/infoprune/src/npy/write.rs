//! Writing `.npy` files laid out byte for byte as `numpy.save` writes them (ndarray-npy's writer
//! leaves out NumPy's spare spaces for the growth axis, so the header is made here), replaced
//! atomically through [`crate::outputs`].

use super::error::{NpyError, PyShape};
use super::header::{byte_len, MAGIC};
use super::overwrite::Overwrite;
use ndarray::ArrayView2;
use std::io;
use std::path::Path;

/// NumPy aligns the start of the data to this many bytes.
const ALIGN: usize = 64;

/// Spare spaces NumPy reserves after the dict so the growth axis can be rewritten in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// The version 1.0 header (magic through the newline) NumPy writes for this dtype and shape.
///
/// Mirrors `numpy.lib.format._write_array_header`: sorted keys, Python reprs, spare spaces for
/// the growth axis, then space padding so the data starts at a multiple of 64 bytes. Falls back
/// to version 2.0 only if the header could not fit a 16-bit length, as NumPy does.
fn npy_header(descr: &str, fortran_order: bool, shape: &[usize]) -> Option<Vec<u8>> {
    let mut dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {}, }}",
        if fortran_order { "True" } else { "False" },
        PyShape(shape)
    );
    let growth_axis = if fortran_order {
        shape.last()
    } else {
        shape.first()
    };
    if let Some(len) = growth_axis {
        let spare = GROWTH_AXIS_MAX_DIGITS.saturating_sub(len.to_string().len());
        dict.extend(std::iter::repeat_n(' ', spare));
    }
    let text_len = dict.len() + 1; // the dict plus the final newline
    for (major, len_field) in [(1u8, 2), (2, 4)] {
        let prefix_len = MAGIC.len() + 2 + len_field;
        let header_len = text_len + ALIGN - (prefix_len + text_len) % ALIGN;
        let len_bytes = u32::try_from(header_len).ok()?.to_le_bytes();
        if len_field == 2 && header_len > usize::from(u16::MAX) {
            continue;
        }
        let mut out = Vec::with_capacity(prefix_len + header_len);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[major, 0]);
        out.extend_from_slice(&len_bytes[..len_field]);
        out.extend_from_slice(dict.as_bytes());
        out.resize(prefix_len + header_len - 1, b' ');
        out.push(b'\n');
        return Some(out);
    }
    None
}

/// A whole C-order `.npy` file in memory, laid out byte for byte as `numpy.save` writes it;
/// `path` names the output in errors.
pub(crate) fn npy_file<T, const N: usize>(
    path: &Path,
    descr: &str,
    shape: &[usize],
    values: impl Iterator<Item = T>,
    to_le: impl Fn(T) -> [u8; N],
) -> Result<Vec<u8>, NpyError> {
    let too_large = || NpyError::TooLarge {
        path: path.to_path_buf(),
        shape: shape.to_vec(),
        itemsize: N,
    };
    let header = npy_header(descr, false, shape).ok_or_else(too_large)?;
    let total = byte_len(shape, N)
        .and_then(|data| data.checked_add(header.len()))
        .ok_or_else(too_large)?;
    let mut out = Vec::new();
    // A broadcast view can claim far more elements than exist in memory; fail cleanly.
    out.try_reserve_exact(total)
        .map_err(|_| NpyError::WriteIo {
            path: path.to_path_buf(),
            action: "allocate the output buffer",
            source: io::ErrorKind::OutOfMemory.into(),
        })?;
    out.extend_from_slice(&header);
    values.for_each(|value| out.extend_from_slice(&to_le(value)));
    Ok(out)
}

/// Writes a 1-D int64 array (`<i8`) atomically; see [`write_atomic`].
pub fn write_i64_vector(path: &Path, values: &[i64], overwrite: Overwrite) -> Result<(), NpyError> {
    write_atomic(path, &i64_vector_bytes(path, values)?, overwrite)
}

/// The bytes of the `.npy` file [`write_i64_vector`] writes; `path` names the output in errors.
pub fn i64_vector_bytes(path: &Path, values: &[i64]) -> Result<Vec<u8>, NpyError> {
    let shape = [values.len()];
    npy_file(
        path,
        "<i8",
        &shape,
        values.iter().copied(),
        i64::to_le_bytes,
    )
}

/// Writes a 1-D float32 array (`<f4`) atomically; see [`write_atomic`].
pub fn write_f32_vector(path: &Path, values: &[f32], overwrite: Overwrite) -> Result<(), NpyError> {
    let shape = [values.len()];
    let bytes = npy_file(
        path,
        "<f4",
        &shape,
        values.iter().copied(),
        f32::to_le_bytes,
    )?;
    write_atomic(path, &bytes, overwrite)
}

/// Writes a 2-D float32 array (`<f4`, C order, whatever the view's layout) atomically; see
/// [`write_atomic`].
pub fn write_f32_matrix(
    path: &Path,
    values: ArrayView2<f32>,
    overwrite: Overwrite,
) -> Result<(), NpyError> {
    let bytes = npy_file(
        path,
        "<f4",
        values.shape(),
        values.iter().copied(),
        f32::to_le_bytes,
    )?;
    write_atomic(path, &bytes, overwrite)
}

/// Writes a 2-D float64 array (`<f8`, C order, whatever the view's layout) atomically; see
/// [`write_atomic`].
pub fn write_f64_matrix(
    path: &Path,
    values: ArrayView2<f64>,
    overwrite: Overwrite,
) -> Result<(), NpyError> {
    let bytes = npy_file(
        path,
        "<f8",
        values.shape(),
        values.iter().copied(),
        f64::to_le_bytes,
    )?;
    write_atomic(path, &bytes, overwrite)
}

/// Writes a 2-D uint8 array (`|u1`, C order, whatever the view's layout) atomically; see
/// [`write_atomic`].
pub fn write_u8_matrix(
    path: &Path,
    values: ArrayView2<u8>,
    overwrite: Overwrite,
) -> Result<(), NpyError> {
    write_atomic(path, &u8_matrix_bytes(path, values)?, overwrite)
}

/// The bytes of the `.npy` file [`write_u8_matrix`] writes; `path` names the output in errors.
pub fn u8_matrix_bytes(path: &Path, values: ArrayView2<u8>) -> Result<Vec<u8>, NpyError> {
    npy_file(path, "|u1", values.shape(), values.iter().copied(), |b| [b])
}

/// Writes `bytes` to `path` atomically: readers see either the old file or the complete new
/// one, never a partial write.
///
/// The bytes go to a temporary file with a short random name in the same folder, which is
/// flushed to disk and then renamed over the target (see [`crate::outputs`]); on any error, or
/// on SIGINT/SIGTERM once `main` has installed the handler, the temporary file is removed. With
/// [`Overwrite::Refuse`] an existing target (checked before anything is written, and again when
/// the file is put in place) is an [`NpyError::AlreadyExists`] error. Used for non-`.npy`
/// outputs such as JSON reports too.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<(), NpyError> {
    crate::outputs::write_all(&[(path, bytes)], overwrite)
}

#[cfg(test)]
mod tests {
    // The reader and writer tests are in tests/npy_header.rs and tests/npy_data.rs; this one needs
    // the header writer itself, at shapes too large to write out.
    use super::super::header::parse_header;
    use super::*;
    use std::fs;
    use tempfile::TempDir;

    #[test]
    fn writer_header_matches_numpy_byte_for_byte() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("v.npy");
        write_i64_vector(&path, &[0, 1, 2, 3, 4], Overwrite::Refuse).unwrap();
        let bytes = fs::read(&path).unwrap();
        // numpy.save(np.arange(5)): 20 spare spaces for the growth axis, padding to 128.
        let dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }";
        let mut expected = b"\x93NUMPY\x01\x00".to_vec();
        expected.extend_from_slice(&118u16.to_le_bytes());
        expected.extend_from_slice(dict.as_bytes());
        expected.resize(127, b' ');
        expected.push(b'\n');
        assert_eq!(&bytes[..128], &expected[..]);
        assert_eq!(bytes.len(), 128 + 5 * 8);

        for shape in [[0usize, 0], [3, 4], [123_456_789, 1], [1, 123_456_789_012]] {
            let header = npy_header("<f4", false, &shape).unwrap();
            assert_eq!(header.len() % 64, 0, "{shape:?}");
            assert_eq!(header.last(), Some(&b'\n'));
            let parsed = parse_header(Path::new("x"), &header).unwrap();
            assert_eq!(parsed.shape, shape);
            assert_eq!(parsed.data_offset, header.len());
        }
    }
}
