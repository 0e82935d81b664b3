//! Embeddings read through a memory map: a `.npy` of any size is opened without reading it, and
//! only the rows a partition needs are gathered (and converted to f32), so memory stays bounded by
//! the batch being solved, not by n.

use crate::npy::{read_header, Dtype, Endian, Header, NpyError};
use memmap2::Mmap;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};
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

    /// A zero-copy view when the file holds little-endian float32 in C order, suitably aligned.
    pub fn view(&self) -> Option<ArrayView2<'_, f32>> {
        if self.header.dtype != Dtype::F32
            || self.header.endian != Endian::Little
            || self.header.fortran_order
            || !cfg!(target_endian = "little")
        {
            return None;
        }
        let bytes = &self.map[self.header.data_offset..][..self.rows * self.cols * 4];
        let floats: &[f32] = bytemuck::try_cast_slice(bytes).ok()?;
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

    /// Element `(i, j)` as f64, whatever the file's dtype, byte order and layout.
    fn element(&self, i: usize, j: usize) -> f64 {
        let size = self.header.dtype.itemsize();
        let flat = if self.header.fortran_order {
            j * self.rows + i
        } else {
            i * self.cols + j
        };
        let at = self.header.data_offset + flat * size;
        let raw = &self.map[at..at + size];
        let big = self.header.endian == Endian::Big;
        match self.header.dtype {
            Dtype::F32 => {
                let b: [u8; 4] = raw.try_into().expect("4 bytes");
                (if big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                }) as f64
            }
            _ => {
                let b: [u8; 8] = raw.try_into().expect("8 bytes");
                if big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }
            }
        }
    }

    /// The given rows as an f32 matrix (in the order given). A finite float64 value outside the
    /// float32 range is an error naming its position; NaN and infinities pass through so the
    /// caller reports them with their index.
    pub fn gather(&self, rows: &[usize]) -> Result<Array2<f32>, NpyError> {
        if let Some(view) = self.view() {
            return Ok(view.select(ndarray::Axis(0), rows));
        }
        let mut out = Array2::<f32>::zeros((rows.len(), self.cols));
        for (r, &i) in rows.iter().enumerate() {
            for j in 0..self.cols {
                let v = self.element(i, j);
                let f = v as f32;
                if v.is_finite() && !f.is_finite() {
                    return Err(NpyError::NotRepresentable {
                        path: self.path.clone(),
                        index: vec![i, j],
                        value: v,
                    });
                }
                out[[r, j]] = f;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::{write_f32_matrix, write_f64_matrix, Overwrite};

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
        crate::npy::write_f32_vector(&p, &[1.0, 2.0], Overwrite::Refuse).unwrap();
        assert!(MappedMatrix::open(&p)
            .unwrap_err()
            .to_string()
            .contains("2-D"));
        let p = dir.path().join("i.npy");
        crate::npy::write_i64_vector(&p, &[1, 2], Overwrite::Refuse).unwrap();
        assert!(MappedMatrix::open(&p).is_err());
        assert!(MappedMatrix::open(&dir.path().join("missing.npy")).is_err());
    }
}
