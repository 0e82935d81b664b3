//! NumPy arrays → the views and vectors the in-memory commands take.
//!
//! C-contiguous native float32 arrays (an `np.memmap` included) are borrowed where they are: the
//! Rust side reads NumPy's own buffer. float64, Fortran-order, strided or byte-swapped arrays are
//! converted once into a C-order float32 copy, as the command line converts such files. Another
//! dtype or shape is refused with the command line's message, the keyword standing where the
//! command line names the file.

use ndarray::{Array, ArrayView, Dimension, IxDyn};
use numpy::{
    Element, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// What the float readers accept (the command line's wording).
const FLOAT_DTYPES: &str = "float32 ('<f4') or float64 ('<f8')";
/// What the integer reader accepts (the command line's wording).
const INT_DTYPES: &str =
    "an integer or bool dtype ('|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1')";

/// A float32 array of dimension `D`: NumPy's own buffer where it could be read in place, else a
/// C-order copy.
pub enum Floats<'py, D: Dimension> {
    /// Borrowed from NumPy (read-only while held).
    Borrowed(PyReadonlyArrayDyn<'py, f32>),
    /// Converted from elements of `itemsize` bytes.
    Owned {
        /// The values.
        values: Array<f32, D>,
        /// Bytes per element of the array given.
        itemsize: usize,
    },
}

impl<D: Dimension> Floats<'_, D> {
    /// The values, in C order.
    pub fn view(&self) -> ArrayView<'_, f32, D> {
        match self {
            Floats::Borrowed(a) => a
                .as_array()
                .into_dimensionality::<D>()
                .expect("the dimension was checked"),
            Floats::Owned { values, .. } => values.view(),
        }
    }

    /// Bytes per element of the array given (4 for float32, 8 for float64).
    pub fn itemsize(&self) -> usize {
        match self {
            Floats::Borrowed(_) => 4,
            Floats::Owned { itemsize, .. } => *itemsize,
        }
    }

    /// Whether the values are NumPy's buffer itself (no copy was made).
    pub fn borrowed(&self) -> bool {
        matches!(self, Floats::Borrowed(_))
    }
}

/// `numpy.asarray(obj)` (a view for any ndarray subclass such as `np.memmap`; lists are
/// converted), made native-endian if it was not.
fn ndarray<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyUntypedArray>> {
    let numpy = obj.py().import("numpy")?;
    let mut array = numpy.getattr("asarray")?.call1((obj,))?;
    let untyped = array.cast::<PyUntypedArray>()?.clone();
    if untyped.dtype().is_native_byteorder() == Some(false) {
        let native = untyped.dtype().call_method1("newbyteorder", ("=",))?;
        array = array.call_method1("astype", (native,))?;
    }
    Ok(array.cast_into::<PyUntypedArray>()?)
}

/// `'<i8' (int64)`: the dtype as the command line's messages show it.
fn describe(array: &Bound<'_, PyUntypedArray>) -> PyResult<String> {
    let dtype = array.dtype();
    Ok(format!(
        "'{}' ({})",
        dtype.getattr("str")?.extract::<String>()?,
        dtype.getattr("name")?.extract::<String>()?
    ))
}

/// `(3,)`, `(2, 3)`: a shape as Python writes it.
fn shape_text(shape: &[usize]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn wrong_shape(name: &str, expected: &str, shape: &[usize]) -> PyErr {
    PyValueError::new_err(format!(
        "{name}: expected a {expected} array, found shape {}",
        shape_text(shape)
    ))
}

fn unsupported(name: &str, array: &Bound<'_, PyUntypedArray>, expected: &str) -> PyErr {
    match describe(array) {
        Ok(found) => PyTypeError::new_err(format!(
            "{name}: unsupported dtype {found}: expected {expected}"
        )),
        Err(e) => e,
    }
}

/// The logical (C-order) index of the `flat`-th element of `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &d) in index.iter_mut().zip(shape).rev() {
        if d > 0 {
            *slot = flat % d;
            flat /= d;
        }
    }
    index
}

/// float64 → float32 as the command line converts a float64 file: rounded; NaN and infinities
/// pass (the command reports them with their index), a finite value beyond the float32 range is
/// refused.
fn narrow(name: &str, wide: ArrayView<'_, f64, IxDyn>) -> PyResult<Array<f32, IxDyn>> {
    let shape = wide.shape().to_vec();
    let mut values = Vec::with_capacity(wide.len());
    for (flat, &w) in wide.iter().enumerate() {
        let v = w as f32;
        if v.is_infinite() && w.is_finite() {
            return Err(PyValueError::new_err(format!(
                "{name}: element {:?} is {w:e}: expected a value within the float32 range (±{:e})",
                unravel(flat, &shape),
                f32::MAX
            )));
        }
        values.push(v);
    }
    Ok(Array::from_shape_vec(IxDyn(&shape), values).expect("one value per element"))
}

/// A float array named `name` whose dimension is `D` (`expected` describes it in errors).
pub fn floats<'py, D: Dimension>(
    name: &str,
    obj: &Bound<'py, PyAny>,
    expected: &str,
) -> PyResult<Floats<'py, D>> {
    let array = ndarray(obj)?;
    let dtype = array.dtype();
    if dtype.kind() != b'f' || !matches!(dtype.itemsize(), 4 | 8) {
        return Err(unsupported(name, &array, FLOAT_DTYPES));
    }
    if D::NDIM.is_some_and(|n| n != array.ndim()) {
        return Err(wrong_shape(name, expected, array.shape()));
    }
    let owned = if dtype.itemsize() == 4 {
        let typed = array.cast::<PyArrayDyn<f32>>()?;
        let read = typed.try_readonly().map_err(borrow_error(name))?;
        if read.as_array().is_standard_layout() && array.is_aligned() {
            return Ok(Floats::Borrowed(read));
        }
        read.as_array().as_standard_layout().into_owned()
    } else {
        let typed = array.cast::<PyArrayDyn<f64>>()?;
        let read = typed.try_readonly().map_err(borrow_error(name))?;
        narrow(name, read.as_array())?
    };
    Ok(Floats::Owned {
        values: owned
            .into_dimensionality::<D>()
            .expect("the dimension was checked"),
        itemsize: dtype.itemsize(),
    })
}

fn borrow_error(name: &str) -> impl FnOnce(numpy::BorrowError) -> PyErr + '_ {
    move |e| PyValueError::new_err(format!("{name}: cannot read the array: {e}"))
}

/// A float vector: 1-D `(n,)` or 2-D `(n, 1)`, as float32 values.
pub fn vector(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<f32>> {
    let array = ndarray(obj)?;
    let shape = array.shape().to_vec();
    if !matches!(shape[..], [_] | [_, 1]) {
        let dtype = array.dtype();
        if dtype.kind() != b'f' || !matches!(dtype.itemsize(), 4 | 8) {
            return Err(unsupported(name, &array, FLOAT_DTYPES));
        }
        return Err(wrong_shape(name, "1-D (n,) or 2-D (n, 1)", &shape));
    }
    let values: Floats<'_, IxDyn> = floats(name, array.as_any(), "1-D (n,) or 2-D (n, 1)")?;
    Ok(values.view().iter().copied().collect())
}

/// An integer or bool vector (class labels, a subset), as `i64`, `(n,)` or `(n, 1)`.
pub fn int_vector(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    let array = ndarray(obj)?;
    let dtype = array.dtype();
    let (kind, size) = (dtype.kind(), dtype.itemsize());
    if !matches!((kind, size), (b'i' | b'u', 1 | 2 | 4 | 8) | (b'b', 1)) {
        return Err(unsupported(name, &array, INT_DTYPES));
    }
    if !matches!(array.shape(), [_] | [_, 1]) {
        return Err(wrong_shape(name, "1-D (n,) or 2-D (n, 1)", array.shape()));
    }
    fn widen<T: Element + Copy + std::fmt::Display>(
        array: &Bound<'_, PyUntypedArray>,
        name: &str,
        cast: impl Fn(T) -> Option<i64>,
    ) -> PyResult<Vec<i64>> {
        let typed = array.cast::<PyArrayDyn<T>>()?;
        let read = typed.try_readonly().map_err(borrow_error(name))?;
        read.as_array()
            .iter()
            .enumerate()
            .map(|(index, &v)| {
                cast(v).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "{name}: element {index} is {v}: expected at most {} (the int64 maximum)",
                        i64::MAX
                    ))
                })
            })
            .collect()
    }
    match (kind, size) {
        (b'i', 1) => widen::<i8>(&array, name, |v| Some(v.into())),
        (b'i', 2) => widen::<i16>(&array, name, |v| Some(v.into())),
        (b'i', 4) => widen::<i32>(&array, name, |v| Some(v.into())),
        (b'i', 8) => widen::<i64>(&array, name, Some),
        (b'u', 1) => widen::<u8>(&array, name, |v| Some(v.into())),
        (b'u', 2) => widen::<u16>(&array, name, |v| Some(v.into())),
        (b'u', 4) => widen::<u32>(&array, name, |v| Some(v.into())),
        (b'u', 8) => widen::<u64>(&array, name, |v| i64::try_from(v).ok()),
        _ => widen::<bool>(&array, name, |v| Some(v.into())),
    }
}

/// The address of a borrowed array's first element, for the tests that check no copy was made.
pub fn address<D: Dimension>(values: &Floats<'_, D>) -> Option<usize> {
    values.borrowed().then(|| values.view().as_ptr() as usize)
}

/// Logits as Python gives them: one `T × n × C` array, or a list (or tuple) of `n × C` arrays, one
/// per epoch, each borrowed in place like any other array.
pub enum LogitArrays<'py> {
    /// One 3-D array.
    Stacked(Floats<'py, ndarray::Ix3>),
    /// One 2-D array per epoch.
    Epochs(Vec<Floats<'py, ndarray::Ix2>>),
}

/// The logits named `name`: a sequence of 2-D arrays is one per epoch, anything else one 3-D array.
pub fn logit_arrays<'py>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<LogitArrays<'py>> {
    use pyo3::types::{PyList, PyTuple};
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let epochs = obj
            .try_iter()?
            .enumerate()
            .map(|(t, e)| floats::<ndarray::Ix2>(&format!("{name}[{t}]"), &e?, "2-D (n, C)"))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(LogitArrays::Epochs(epochs));
    }
    Ok(LogitArrays::Stacked(floats(name, obj, "3-D (T, n, C)")?))
}

impl LogitArrays<'_> {
    /// The core's view of them; epochs of different shapes are a `ValueError`.
    pub fn view(&self) -> PyResult<infoprune::core::scores::Logits<'_>> {
        match self {
            LogitArrays::Stacked(z) => Ok(z.view().into()),
            LogitArrays::Epochs(epochs) => {
                infoprune::core::scores::Logits::epochs(epochs.iter().map(Floats::view).collect())
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("logits: {e}")))
            }
        }
    }
}
