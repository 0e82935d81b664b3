//! Embeddings read through a memory map: a `.npy` of any size is opened without reading it, and
//! only the rows a partition needs are gathered (and converted to f32), so memory stays bounded by
//! the batch being solved, not by n.

use crate::npy::{decode, narrow, read_header, Dtype, Header, NpyError};
use memmap2::Mmap;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};
use ndarray_npy::ViewElement;
use py_literal::Value as PyValue;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A 2-D float32 or float64 `.npy`, memory-mapped.
pub struct MappedMatrix {
    path: PathBuf,
    header: Header,
    map: Mmap,
    rows: usize,
    cols: usize,
}

impl std::fmt::Debug for MappedMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedMatrix")
            .field("path", &self.path)
            .field("shape", &(self.rows, self.cols))
            .field("dtype", &self.header.dtype)
            .finish()
    }
}

impl MappedMatrix {
    /// Opens `path`: the header is validated (dtype, 2-D shape, exact file length) before anything
    /// is mapped.
    pub fn open(path: &Path) -> Result<Self, NpyError> {
        Self::open_with(path, false)
    }

    /// Opens a 2-D array, or a C-order 3-D array `a × b × c` viewed as `(a·b) × c` rows (token
    /// features `n × T × d`, one row per token).
    pub fn open_rows(path: &Path) -> Result<Self, NpyError> {
        Self::open_with(path, true)
    }

    fn open_with(path: &Path, flatten_3d: bool) -> Result<Self, NpyError> {
        let header = read_header(path)?;
        if !matches!(header.dtype, Dtype::F32 | Dtype::F64) {
            return Err(NpyError::UnsupportedDtype {
                path: path.to_path_buf(),
                found: header.descr(),
                expected: "float32 or float64",
            });
        }
        let (rows, cols) = match header.shape[..] {
            [r, c] => (r, c),
            [a, b, c] if flatten_3d && !header.fortran_order => (a * b, c),
            _ => {
                return Err(NpyError::WrongDimensions {
                    path: path.to_path_buf(),
                    expected: if flatten_3d {
                        "C-order 3-D (n × T × d)"
                    } else {
                        "2-D (n × d)"
                    },
                    found: header.shape.clone(),
                })
            }
        };
        let io = |action: &'static str| {
            move |source| NpyError::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        };
        let file = File::open(path).map_err(io("open file"))?;
        // SAFETY: the map is read-only; the file being changed by another process while mapped is
        // the usual caveat of memory-mapped input, and every read below is bounds-checked against
        // the length validated from the header.
        let map = unsafe { Mmap::map(&file) }.map_err(io("memory-map file"))?;
        let needed = header.data_offset + rows * cols * header.dtype.itemsize();
        if map.len() < needed {
            return Err(NpyError::Truncated {
                path: path.to_path_buf(),
                part: "data",
                expected_bytes: needed as u64,
                found_bytes: map.len() as u64,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            header,
            map,
            rows,
            cols,
        })
    }

    /// The array's shape as stored in the file.
    pub fn shape(&self) -> &[usize] {
        &self.header.shape
    }

    /// Number of rows (samples).
    pub fn nrows(&self) -> usize {
        self.rows
    }

    /// Number of columns (features).
    pub fn ncols(&self) -> usize {
        self.cols
    }

    /// The data bytes, exactly as many as the header calls for.
    fn data(&self) -> &[u8] {
        let len = self.rows * self.cols * self.header.dtype.itemsize();
        &self.map[self.header.data_offset..][..len]
    }

    /// A zero-copy view when the file holds float32 in C order, in this machine's byte order and
    /// suitably aligned (ndarray-npy checks the last two).
    pub fn view(&self) -> Option<ArrayView2<'_, f32>> {
        if self.header.dtype != Dtype::F32 || self.header.fortran_order {
            return None;
        }
        let descr = PyValue::String(self.header.descr());
        let floats = f32::bytes_as_slice(self.data(), &descr, self.rows * self.cols).ok()?;
        ArrayView2::from_shape((self.rows, self.cols), floats).ok()
    }

    /// Every row as f32: the file viewed in place where [`MappedMatrix::view`] allows, else all rows
    /// gathered.
    pub fn whole(&self) -> Result<CowArray<'_, f32, Ix2>, NpyError> {
        Ok(match self.view() {
            Some(view) => view.into(),
            None => self.gather(&(0..self.rows).collect::<Vec<_>>())?.into(),
        })
    }

    /// The given rows as an f32 matrix (in the order given). A finite float64 value outside the
    /// float32 range is an error naming its position; NaN and infinities pass through so the
    /// caller reports them with their index.
    pub fn gather(&self, rows: &[usize]) -> Result<Array2<f32>, NpyError> {
        if let Some(view) = self.view() {
            return Ok(view.select(ndarray::Axis(0), rows));
        }
        let mut out = Array2::<f32>::zeros((rows.len(), self.cols));
        for (mut dst, &i) in out.rows_mut().into_iter().zip(rows) {
            for (j, (slot, value)) in dst.iter_mut().zip(self.row(i)?).enumerate() {
                *slot = narrow(value).ok_or_else(|| NpyError::NotRepresentable {
                    path: self.path.clone(),
                    index: vec![i, j],
                    value,
                })?;
            }
        }
        Ok(out)
    }

    /// Row `i` as f64, decoded by ndarray-npy whatever the dtype and byte order: one contiguous
    /// run in C order; in Fortran order each element of a row lies in another column, so one run
    /// per element.
    fn row(&self, i: usize) -> Result<Vec<f64>, NpyError> {
        let size = self.header.dtype.itemsize();
        let descr = self.header.descr();
        let (run, runs) = if self.header.fortran_order {
            (1, self.cols)
        } else {
            (self.cols, 1)
        };
        let mut out = Vec::with_capacity(self.cols);
        for k in 0..runs {
            let first = if self.header.fortran_order {
                k * self.rows + i
            } else {
                i * self.cols
            };
            let bytes = &self.data()[first * size..][..run * size];
            if self.header.dtype == Dtype::F32 {
                let values = decode::<f32>(&self.path, &descr, bytes)?;
                out.extend(values.into_iter().map(f64::from));
            } else {
                out.extend(decode::<f64>(&self.path, &descr, bytes)?);
            }
        }
        Ok(out)
    }
}
