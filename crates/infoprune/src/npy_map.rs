//! Embeddings read through a memory map: a `.npy` of any size is opened without reading it, and
//! only the rows a partition needs are gathered (and converted to f32), so memory stays bounded by
//! the batch being solved, not by n.

use crate::npy::{decode, descr_value, narrow, read_header, Dtype, Header, NpyError};
use memmap2::Mmap;
use ndarray::{Array2, ArrayView2, ArrayViewMut1, Axis, CowArray, Ix2, ShapeBuilder};
use ndarray_npy::ViewElement;
use py_literal::Value as PyValue;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Most consecutive rows decoded in one piece when the file cannot be viewed in place, which
/// bounds the temporary f64 buffer.
const RUN_ROWS: usize = 1024;

/// A 2-D float32 or float64 `.npy`, memory-mapped.
pub struct MappedMatrix {
    path: PathBuf,
    header: Header,
    /// The dtype string as ndarray-npy takes it.
    descr: PyValue,
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
            descr: descr_value(&header.descr()),
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

    /// The data viewed in place as `T` in its own layout, where ndarray-npy finds it in this
    /// machine's byte order and suitably aligned (as NumPy's files are, once mapped).
    fn view_as<T: ViewElement>(&self) -> Option<ArrayView2<'_, T>> {
        let values = T::bytes_as_slice(self.data(), &self.descr, self.rows * self.cols).ok()?;
        let shape = (self.rows, self.cols).set_f(self.header.fortran_order);
        ArrayView2::from_shape(shape, values).ok()
    }

    /// A zero-copy view when the file holds float32 in C order, in this machine's byte order and
    /// suitably aligned.
    pub fn view(&self) -> Option<ArrayView2<'_, f32>> {
        let c_f32 = self.header.dtype == Dtype::F32 && !self.header.fortran_order;
        c_f32.then(|| self.view_as()).flatten()
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
            return Ok(view.select(Axis(0), rows));
        }
        let (f32s, f64s) = match self.header.dtype {
            Dtype::F32 => (self.view_as::<f32>(), None),
            _ => (None, self.view_as::<f64>()),
        };
        let mut out = Array2::<f32>::zeros((rows.len(), self.cols));
        let mut r = 0;
        while r < rows.len() && self.cols > 0 {
            let i = rows[r];
            r += match (&f32s, &f64s) {
                (Some(view), _) => {
                    let values = view.row(i).into_iter().map(|&v| v.into());
                    self.narrow_into(out.row_mut(r), i, values).map(|()| 1)?
                }
                (_, Some(view)) => {
                    let values = view.row(i).into_iter().copied();
                    self.narrow_into(out.row_mut(r), i, values).map(|()| 1)?
                }
                _ => {
                    // Decoded a run of consecutive rows at a time (in C order they are contiguous).
                    let run = match self.header.fortran_order {
                        true => 1,
                        false => (rows[r..].iter().zip(i..).take(RUN_ROWS))
                            .take_while(|(a, b)| **a == *b)
                            .count(),
                    };
                    let values = self.decode_rows(i, run)?;
                    for (k, row) in values.chunks(self.cols).enumerate() {
                        self.narrow_into(out.row_mut(r + k), i + k, row.iter().copied())?;
                    }
                    run
                }
            };
        }
        Ok(out)
    }

    /// Row `i`'s `values` into `dst` as f32, refusing a finite value outside the f32 range.
    fn narrow_into(
        &self,
        mut dst: ArrayViewMut1<'_, f32>,
        i: usize,
        values: impl Iterator<Item = f64>,
    ) -> Result<(), NpyError> {
        for (j, (slot, value)) in dst.iter_mut().zip(values).enumerate() {
            *slot = narrow(value).ok_or_else(|| NpyError::NotRepresentable {
                path: self.path.clone(),
                index: vec![i, j],
                value,
            })?;
        }
        Ok(())
    }

    /// Rows `first..first + count` of a file that cannot be viewed (another byte order, or
    /// misaligned) as f64, decoded by ndarray-npy: in C order one contiguous run; in Fortran order
    /// (one row only) each element lies in another column, so one run per element.
    fn decode_rows(&self, first: usize, count: usize) -> Result<Vec<f64>, NpyError> {
        let size = self.header.dtype.itemsize();
        let run = |start: usize, len: usize| -> Result<Vec<f64>, NpyError> {
            let bytes = &self.data()[start * size..][..len * size];
            Ok(match self.header.dtype {
                Dtype::F32 => decode::<f32>(&self.path, &self.descr, bytes)?
                    .into_iter()
                    .map(f64::from)
                    .collect(),
                _ => decode::<f64>(&self.path, &self.descr, bytes)?,
            })
        };
        if !self.header.fortran_order {
            return run(first * self.cols, count * self.cols);
        }
        (0..self.cols)
            .map(|j| Ok(run(j * self.rows + first, 1)?[0]))
            .collect()
    }
}
