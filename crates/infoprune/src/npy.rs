//! Reading and writing NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
//!
//! The format is parsed here rather than by a crate so that every failure on an untrusted file
//! becomes an [`NpyError`] that names the file, what was expected and what was found, and so that
//! sizes claimed by a header are checked against the file's real length before anything is
//! allocated from them.
//!
//! Writers produce version 1.0 files laid out byte for byte as `numpy.save` does, and replace
//! their target atomically (see [`write_atomic`]).

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array, Array2, Array3, ArrayView2, Dimension, Ix2, Ix3, ShapeBuilder};

/// The first six bytes of every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Largest header (the dict text plus padding) a reader accepts, in bytes.
///
/// NumPy's own headers are a few hundred bytes; the cap stops a hostile length field from
/// making the reader buffer gigabytes before it has parsed anything.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// NumPy aligns the start of the data to this many bytes.
const ALIGN: usize = 64;

/// Spare spaces NumPy reserves after the dict so the growth axis can be rewritten in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// Nesting depth of brackets the header parser follows before giving up; keeps hostile
/// headers such as `[[[[…` from exhausting the stack.
const MAX_NESTING: usize = 32;

/// Every dtype the readers understand, for error messages.
const SUPPORTED_DTYPES: &str = "float32, float64, int8/16/32/64, uint8/16/32/64 or bool \
     ('<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1'; \
     big-endian '>' also accepted)";

/// What the float readers accept.
const FLOAT_DTYPES: &str = "float32 ('<f4') or float64 ('<f8')";

/// What the integer reader accepts.
const INT_DTYPES: &str = "an integer or bool dtype ('|i1', '<i2', '<i4', '<i8', '|u1', '<u2', \
     '<u4', '<u8', '|b1')";

/// Errors from reading or writing `.npy` files (and from [`write_atomic`]).
///
/// Every message names the file, what was expected and what was found.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The operating system refused to open or read the input `path`.
    #[error("{}: cannot {action}: {source}", .path.display())]
    Io {
        /// The file the operation was on.
        path: PathBuf,
        /// What was being attempted, e.g. `open file`.
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The operating system refused an operation while writing an output (the output path or
    /// its temporary file).
    #[error("{}: cannot {action}: {source}", .path.display())]
    WriteIo {
        /// The file the operation was on.
        path: PathBuf,
        /// What was being attempted, e.g. `write temporary file`.
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// The file does not start with the `.npy` magic string.
    #[error(
        "{}: not a .npy file: expected the magic string \"\\x93NUMPY\" at the start, found \"{}\"",
        .path.display(),
        .found.escape_ascii()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Up to the first six bytes of the file.
        found: Vec<u8>,
    },
    /// The format version is not 1.0, 2.0 or 3.0.
    #[error(
        "{}: unsupported .npy format version {major}.{minor}: expected 1.0, 2.0 or 3.0",
        .path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header length field exceeds [`MAX_HEADER_LEN`].
    #[error(
        "{}: .npy header length is {found} bytes: expected at most {max} bytes",
        .path.display()
    )]
    HeaderTooLarge {
        /// The file.
        path: PathBuf,
        /// The header length the file claims.
        found: u64,
        /// The limit.
        max: u64,
    },
    /// The header dict is malformed, misses a key or has a value of the wrong kind.
    #[error("{}: malformed .npy header: {reason}", .path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong, with what was expected and found.
        reason: String,
    },
    /// The dtype is not one this reader (or this particular function) handles.
    #[error("{}: unsupported dtype {found}: expected {expected}", .path.display())]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The dtype as written in the header, with a description where one is known.
        found: String,
        /// The dtypes that would have been accepted.
        expected: &'static str,
    },
    /// The array has the wrong number of dimensions for the function called.
    #[error(
        "{}: expected a {expected} array, found shape {}",
        .path.display(),
        PyShape(.found)
    )]
    WrongDimensions {
        /// The file.
        path: PathBuf,
        /// The accepted shapes, e.g. `2-D (rows, columns)`.
        expected: &'static str,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// The array's size in bytes does not fit in memory addresses.
    #[error(
        "{}: array of shape {} with {itemsize}-byte elements is too large: expected at most \
         {} bytes in all",
        .path.display(),
        PyShape(.shape),
        isize::MAX
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The claimed shape.
        shape: Vec<usize>,
        /// Bytes per element.
        itemsize: usize,
    },
    /// The file ends before the header or the data does.
    #[error(
        "{}: truncated .npy {part}: expected {expected_bytes} bytes, found {found_bytes}",
        .path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// `header` (counted from the start of the file) or `data` (counted after the header).
        part: &'static str,
        /// How many bytes the header says there should be.
        expected_bytes: u64,
        /// How many bytes there are.
        found_bytes: u64,
    },
    /// The file holds more bytes after the header than the shape accounts for.
    #[error(
        "{}: expected {expected_bytes} data bytes after the header, found {found_bytes} \
         ({} unexpected trailing bytes)",
        .path.display(),
        excess(.found_bytes, .expected_bytes)
    )]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Data bytes the shape and dtype call for.
        expected_bytes: u64,
        /// Data bytes present.
        found_bytes: u64,
    },
    /// A finite float64 value lies outside the float32 range.
    #[error(
        "{}: element {index:?} is {value:e}: expected a value within the float32 range \
         (±{:e})",
        .path.display(),
        f32::MAX
    )]
    NotRepresentable {
        /// The file.
        path: PathBuf,
        /// The element's index along each axis, in the array's logical (C) indexing.
        index: Vec<usize>,
        /// The value.
        value: f64,
    },
    /// A uint64 value exceeds the int64 range.
    #[error(
        "{}: element {index} is {value}: expected at most {} (the int64 maximum)",
        .path.display(),
        i64::MAX
    )]
    IntOutOfRange {
        /// The file.
        path: PathBuf,
        /// The element's position.
        index: usize,
        /// The value.
        value: u64,
    },
    /// The output exists and [`Overwrite::Refuse`] was given.
    #[error("{} already exists; pass --force to replace it", .path.display())]
    AlreadyExists {
        /// The output path.
        path: PathBuf,
    },
    /// An output path that cannot name a file, such as `/` or `dir/..`.
    #[error("{}: not a usable output path: {reason}", .path.display())]
    BadPath {
        /// The path.
        path: PathBuf,
        /// Why it cannot be written.
        reason: &'static str,
    },
}

impl NpyError {
    /// Whether this is an operating-system failure while writing an output, as opposed to a
    /// problem with the inputs or with how the program was invoked (including
    /// [`NpyError::AlreadyExists`] and [`NpyError::BadPath`]).
    pub fn is_write_failure(&self) -> bool {
        matches!(self, NpyError::WriteIo { .. })
    }
}

fn excess(found: &u64, expected: &u64) -> u64 {
    found.saturating_sub(*expected)
}

/// Formats a shape the way Python prints a tuple: `()`, `(5,)`, `(3, 4)`.
struct PyShape<'a>(&'a [usize]);

impl fmt::Display for PyShape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("()"),
            [d] => write!(f, "({d},)"),
            [first, rest @ ..] => {
                write!(f, "({first}")?;
                for d in rest {
                    write!(f, ", {d}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> NpyError + 'a {
    move |source| NpyError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

fn bad_header(path: &Path, reason: impl Into<String>) -> NpyError {
    NpyError::BadHeader {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Element type of a `.npy` array that this module can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// 32-bit IEEE float (`f4`).
    F32,
    /// 64-bit IEEE float (`f8`).
    F64,
    /// Signed 8-bit integer (`i1`).
    I8,
    /// Signed 16-bit integer (`i2`).
    I16,
    /// Signed 32-bit integer (`i4`).
    I32,
    /// Signed 64-bit integer (`i8`).
    I64,
    /// Unsigned 8-bit integer (`u1`).
    U8,
    /// Unsigned 16-bit integer (`u2`).
    U16,
    /// Unsigned 32-bit integer (`u4`).
    U32,
    /// Unsigned 64-bit integer (`u8`).
    U64,
    /// Boolean stored as one byte, zero meaning false (`b1`).
    Bool,
}

impl Dtype {
    /// Size of one element in bytes.
    pub fn itemsize(self) -> usize {
        match self {
            Dtype::I8 | Dtype::U8 | Dtype::Bool => 1,
            Dtype::I16 | Dtype::U16 => 2,
            Dtype::F32 | Dtype::I32 | Dtype::U32 => 4,
            Dtype::F64 | Dtype::I64 | Dtype::U64 => 8,
        }
    }

    /// NumPy's type code without the byte-order character, e.g. `f4`.
    pub fn code(self) -> &'static str {
        match self {
            Dtype::F32 => "f4",
            Dtype::F64 => "f8",
            Dtype::I8 => "i1",
            Dtype::I16 => "i2",
            Dtype::I32 => "i4",
            Dtype::I64 => "i8",
            Dtype::U8 => "u1",
            Dtype::U16 => "u2",
            Dtype::U32 => "u4",
            Dtype::U64 => "u8",
            Dtype::Bool => "b1",
        }
    }

    /// NumPy's name for the type, e.g. `float32`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::I8 => "int8",
            Dtype::I16 => "int16",
            Dtype::I32 => "int32",
            Dtype::I64 => "int64",
            Dtype::U8 => "uint8",
            Dtype::U16 => "uint16",
            Dtype::U32 => "uint32",
            Dtype::U64 => "uint64",
            Dtype::Bool => "bool",
        }
    }

    fn from_code(code: &str) -> Option<Dtype> {
        Some(match code {
            "f4" => Dtype::F32,
            "f8" => Dtype::F64,
            "i1" => Dtype::I8,
            "i2" => Dtype::I16,
            "i4" => Dtype::I32,
            "i8" => Dtype::I64,
            "u1" => Dtype::U8,
            "u2" => Dtype::U16,
            "u4" => Dtype::U32,
            "u8" => Dtype::U64,
            "b1" | "?" => Dtype::Bool,
            _ => return None,
        })
    }
}

/// Byte order of the elements in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Least significant byte first (`<`, and `|`/`=` on little-endian hosts).
    Little,
    /// Most significant byte first (`>`).
    Big,
}

impl Endian {
    fn native() -> Endian {
        if cfg!(target_endian = "big") {
            Endian::Big
        } else {
            Endian::Little
        }
    }
}

/// A validated `.npy` header.
///
/// A header returned by this module is consistent with its file: the data size computed from
/// `shape` and `dtype` fits in memory addresses and equals the number of bytes after
/// `data_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Element type.
    pub dtype: Dtype,
    /// Byte order of the elements.
    pub endian: Endian,
    /// Whether the data is stored column-major (first axis varying fastest).
    pub fortran_order: bool,
    /// Length of each axis; empty for a 0-d array.
    pub shape: Vec<usize>,
    /// Offset of the first data byte from the start of the file.
    pub data_offset: usize,
}

impl Header {
    /// The dtype string as NumPy writes it, e.g. `<f4`, `>i8` or `|u1`.
    pub fn descr(&self) -> String {
        let order = match (self.dtype.itemsize(), self.endian) {
            (1, _) => '|',
            (_, Endian::Little) => '<',
            (_, Endian::Big) => '>',
        };
        format!("{order}{}", self.dtype.code())
    }

    /// Number of elements, or `None` if it overflows `usize`.
    pub fn element_count(&self) -> Option<usize> {
        self.shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }

    /// Number of data bytes, or `None` if the array could not be addressed in memory.
    pub fn data_len(&self) -> Option<usize> {
        byte_len(&self.shape, self.dtype.itemsize())
    }
}

/// Bytes occupied by an array, requiring (as `ndarray` does) that the product of the non-zero
/// axis lengths fits too, so that e.g. `(0, 10^15, 10^15)` is refused rather than accepted
/// here and rejected later by `ndarray`.
fn byte_len(shape: &[usize], itemsize: usize) -> Option<usize> {
    let nonzero = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    let bytes = nonzero.checked_mul(itemsize)?;
    if bytes > isize::MAX as usize {
        return None;
    }
    Some(if shape.contains(&0) { 0 } else { bytes })
}

/// The fixed-size part of a file before the header dict.
struct Prefix {
    major: u8,
    len: usize,
    data_offset: usize,
}

fn parse_prefix(path: &Path, bytes: &[u8]) -> Result<Prefix, NpyError> {
    let head = bytes.get(..MAGIC.len()).unwrap_or(bytes);
    if !MAGIC.starts_with(head) {
        return Err(NpyError::BadMagic {
            path: path.to_path_buf(),
            found: head.to_vec(),
        });
    }
    let truncated = |expected: usize| NpyError::Truncated {
        path: path.to_path_buf(),
        part: "header",
        expected_bytes: expected as u64,
        found_bytes: bytes.len() as u64,
    };
    let (major, minor) = match (bytes.get(6), bytes.get(7)) {
        (Some(&major), Some(&minor)) => (major, minor),
        _ => return Err(truncated(10)),
    };
    let header_len = match (major, minor) {
        (1, 0) => match bytes.get(8..10) {
            Some(&[a, b]) => u64::from(u16::from_le_bytes([a, b])),
            _ => return Err(truncated(10)),
        },
        (2, 0) | (3, 0) => match bytes.get(8..12) {
            Some(&[a, b, c, d]) => u64::from(u32::from_le_bytes([a, b, c, d])),
            _ => return Err(truncated(12)),
        },
        _ => {
            return Err(NpyError::UnsupportedVersion {
                path: path.to_path_buf(),
                major,
                minor,
            })
        }
    };
    if header_len > MAX_HEADER_LEN as u64 {
        return Err(NpyError::HeaderTooLarge {
            path: path.to_path_buf(),
            found: header_len,
            max: MAX_HEADER_LEN as u64,
        });
    }
    let len = if major == 1 { 10 } else { 12 };
    // Both terms are bounded (12 and 1 MiB), so this cannot overflow.
    let data_offset = len + header_len as usize;
    Ok(Prefix {
        major,
        len,
        data_offset,
    })
}

/// Parses and validates the header at the start of `bytes`, which must hold at least the whole
/// header (the data may be absent).
fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header, NpyError> {
    let (prefix, (dtype, endian), fortran_order, shape) =
        header_fields(path, bytes, |descr| parse_descr(path, descr))?;
    if byte_len(&shape, dtype.itemsize()).is_none() {
        return Err(NpyError::TooLarge {
            path: path.to_path_buf(),
            shape,
            itemsize: dtype.itemsize(),
        });
    }
    Ok(Header {
        dtype,
        endian,
        fortran_order,
        shape,
        data_offset: prefix.data_offset,
    })
}

/// The prefix and the three header keys of the file at the start of `bytes`; the `descr` string is
/// interpreted by `descr` (called before `fortran_order` and `shape` are checked, so the dtype is
/// the first thing a header is judged by).
fn header_fields<T>(
    path: &Path,
    bytes: &[u8],
    descr_of: impl FnOnce(&str) -> Result<T, NpyError>,
) -> Result<(Prefix, T, bool, Vec<usize>), NpyError> {
    let prefix = parse_prefix(path, bytes)?;
    let raw = bytes
        .get(prefix.len..prefix.data_offset)
        .ok_or(NpyError::Truncated {
            path: path.to_path_buf(),
            part: "header",
            expected_bytes: prefix.data_offset as u64,
            found_bytes: bytes.len() as u64,
        })?;
    let text: String = if prefix.major >= 3 {
        std::str::from_utf8(raw)
            .map_err(|e| {
                bad_header(
                    path,
                    format!("expected UTF-8 text in a version 3 header: {e}"),
                )
            })?
            .to_owned()
    } else {
        // Versions 1 and 2 are latin-1, where every byte is the code point of the same value.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let dict = match Parser::new(&text).parse_literal() {
        Ok(PyValue::Dict(entries)) => entries,
        Ok(other) => {
            return Err(bad_header(
                path,
                format!("expected a dict, found {}", repr(&other)),
            ))
        }
        Err(reason) => return Err(bad_header(path, reason)),
    };

    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    for (key, value) in dict {
        let PyValue::Str(key) = key else {
            return Err(bad_header(
                path,
                format!("expected string keys, found key {}", repr(&key)),
            ));
        };
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            _ => {
                return Err(bad_header(
                    path,
                    format!(
                        "unexpected key {}: expected only 'descr', 'fortran_order' and 'shape'",
                        repr(&PyValue::Str(key))
                    ),
                ))
            }
        };
        if slot.is_some() {
            return Err(bad_header(path, format!("key '{key}' appears twice")));
        }
        *slot = Some(value);
    }
    let missing = |key: &str| bad_header(path, format!("missing key '{key}'"));
    let descr = descr.ok_or_else(|| missing("descr"))?;
    let fortran = fortran.ok_or_else(|| missing("fortran_order"))?;
    let shape = shape.ok_or_else(|| missing("shape"))?;

    let described = match &descr {
        PyValue::Str(s) => descr_of(s)?,
        PyValue::List(_) => {
            return Err(NpyError::UnsupportedDtype {
                path: path.to_path_buf(),
                found: format!("{} (a structured dtype)", repr(&descr)),
                expected: SUPPORTED_DTYPES,
            })
        }
        other => {
            return Err(bad_header(
                path,
                format!("expected 'descr' to be a string, found {}", repr(other)),
            ))
        }
    };
    let fortran_order = match fortran {
        PyValue::Bool(b) => b,
        other => {
            return Err(bad_header(
                path,
                format!(
                    "expected 'fortran_order' to be True or False, found {}",
                    repr(&other)
                ),
            ))
        }
    };
    let dims = match &shape {
        PyValue::Tuple(items) | PyValue::List(items) => items,
        other => {
            return Err(bad_header(
                path,
                format!(
                    "expected 'shape' to be a tuple of integers, found {}",
                    repr(other)
                ),
            ))
        }
    };
    let shape = dims
        .iter()
        .map(|d| parse_dim(path, d))
        .collect::<Result<Vec<usize>, NpyError>>()?;
    Ok((prefix, described, fortran_order, shape))
}

fn parse_dim(path: &Path, value: &PyValue) -> Result<usize, NpyError> {
    let PyValue::Int(text) = value else {
        return Err(bad_header(
            path,
            format!(
                "expected 'shape' to hold non-negative integers, found {}",
                repr(value)
            ),
        ));
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if negative && digits.bytes().any(|b| b != b'0') {
        return Err(bad_header(
            path,
            format!("expected non-negative dimensions in 'shape', found {text}"),
        ));
    }
    digits.parse::<usize>().map_err(|_| {
        bad_header(
            path,
            format!(
                "expected dimensions below 2^{} in 'shape', found {}",
                usize::BITS,
                truncate(text)
            ),
        )
    })
}

fn parse_descr(path: &Path, descr: &str) -> Result<(Dtype, Endian), NpyError> {
    let (order, code) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (Some(c), descr.get(1..).unwrap_or("")),
        _ => (None, descr),
    };
    let Some(dtype) = Dtype::from_code(code) else {
        let found = match describe_code(code) {
            Some(kind) => format!("'{}' ({kind})", truncate(descr)),
            None => format!("'{}'", truncate(descr)),
        };
        return Err(NpyError::UnsupportedDtype {
            path: path.to_path_buf(),
            found,
            expected: SUPPORTED_DTYPES,
        });
    };
    let endian = match order {
        Some('<') => Endian::Little,
        Some('>') => Endian::Big,
        // '|' means "not applicable"; NumPy reads it (and '=' or no prefix) as native order.
        _ => Endian::native(),
    };
    Ok((dtype, endian))
}

/// A human description of a NumPy type code this module does not read.
fn describe_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "f2" | "e" => "float16",
        "f12" | "f16" | "g" => "long double",
        _ => match code.chars().next()? {
            'c' | 'F' | 'D' | 'G' => "complex",
            'O' => "Python objects",
            'S' | 'a' => "byte strings",
            'U' => "unicode strings",
            'V' => "raw bytes",
            'M' => "datetime64",
            'm' => "timedelta64",
            _ => return None,
        },
    })
}

/// Cuts text from a hostile header to a length fit for an error message.
fn truncate(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

/// The subset of Python literals that appears in `.npy` headers.
#[derive(Debug, Clone, PartialEq)]
enum PyValue {
    Str(String),
    /// Kept as text so that overflow is reported where the value is used.
    Int(String),
    Bool(bool),
    None,
    Tuple(Vec<PyValue>),
    List(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
}

/// Python-like rendering for error messages, cut to a readable length.
fn repr(value: &PyValue) -> String {
    fn go(value: &PyValue, out: &mut String) {
        let seq = |items: &[PyValue], open: char, close: char, out: &mut String| {
            out.push(open);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                go(item, out);
            }
            if open == '(' && items.len() == 1 {
                out.push(',');
            }
            out.push(close);
        };
        match value {
            PyValue::Str(s) => {
                out.push('\'');
                out.push_str(s);
                out.push('\'');
            }
            PyValue::Int(t) => out.push_str(t),
            PyValue::Bool(true) => out.push_str("True"),
            PyValue::Bool(false) => out.push_str("False"),
            PyValue::None => out.push_str("None"),
            PyValue::Tuple(items) => seq(items, '(', ')', out),
            PyValue::List(items) => seq(items, '[', ']', out),
            PyValue::Dict(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    go(k, out);
                    out.push_str(": ");
                    go(v, out);
                }
                out.push('}');
            }
        }
    }
    let mut out = String::new();
    go(value, &mut out);
    truncate(&out)
}

/// Recursive-descent parser for one Python literal.
///
/// String escapes are simplified (a backslash keeps the next character as is), which is enough
/// for the keys and dtype strings NumPy writes.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// Parses the whole text as one literal surrounded by optional whitespace.
    fn parse_literal(mut self) -> Result<PyValue, String> {
        let value = self.value()?;
        self.skip_ws();
        if self.pos < self.text.len() {
            return Err(self.unexpected("the end of the header after the dict"));
        }
        Ok(value)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(
            self.peek(),
            Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
        ) {
            self.pos += 1;
        }
    }

    fn unexpected(&self, expected: &str) -> String {
        let found = match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("{c:?}"),
            None => "the end of the header".to_owned(),
        };
        format!(
            "expected {expected} at byte {} of the header dict, found {found}",
            self.pos
        )
    }

    fn value(&mut self) -> Result<PyValue, String> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.nested(Self::dict),
            Some(b'(') => self.nested(|p| {
                let (items, had_comma) = p.sequence(b')')?;
                // `(x)` is just `x` in Python; only a comma makes a one-element tuple.
                Ok(match <[PyValue; 1]>::try_from(items) {
                    Ok([item]) if !had_comma => item,
                    Ok(one) => PyValue::Tuple(one.into()),
                    Err(items) => PyValue::Tuple(items),
                })
            }),
            Some(b'[') => self.nested(|p| Ok(PyValue::List(p.sequence(b']')?.0))),
            Some(quote @ (b'\'' | b'"')) => self.string(quote),
            Some(b'-' | b'+' | b'0'..=b'9') => self.int(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.name(),
            _ => Err(self.unexpected("a value")),
        }
    }

    /// Consumes the opening bracket and runs `inner` one nesting level deeper.
    fn nested(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<PyValue, String>,
    ) -> Result<PyValue, String> {
        if self.depth >= MAX_NESTING {
            return Err(format!(
                "expected at most {MAX_NESTING} levels of nested brackets, found more at byte {}",
                self.pos
            ));
        }
        self.depth += 1;
        self.pos += 1;
        let result = inner(self);
        self.depth -= 1;
        result
    }

    /// Items up to `close`; also reports whether any comma was seen.
    fn sequence(&mut self, close: u8) -> Result<(Vec<PyValue>, bool), String> {
        let mut items = Vec::new();
        let mut had_comma = false;
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((items, had_comma));
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    had_comma = true;
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok((items, had_comma));
                }
                _ => return Err(self.unexpected(&format!("',' or '{}'", char::from(close)))),
            }
        }
    }

    fn dict(&mut self) -> Result<PyValue, String> {
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(PyValue::Dict(entries));
            }
            let key = self.value()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("':' after a dict key"));
            }
            self.pos += 1;
            let value = self.value()?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(PyValue::Dict(entries));
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    fn string(&mut self, quote: u8) -> Result<PyValue, String> {
        let start = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        loop {
            match self.peek() {
                None => {
                    return Err(format!(
                        "expected a closing {} for the string starting at byte {start}, found \
                         the end of the header",
                        char::from(quote)
                    ))
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    if let Some(c) = self.peek() {
                        bytes.push(c);
                        self.pos += 1;
                    }
                }
                Some(c) => {
                    bytes.push(c);
                    self.pos += 1;
                }
            }
        }
        // Only whole characters were copied (a quote or backslash is never inside a multi-byte
        // UTF-8 sequence), so this cannot fail on `str` input; it is checked anyway.
        String::from_utf8(bytes)
            .map(PyValue::Str)
            .map_err(|_| format!("expected UTF-8 text in the string at byte {start}"))
    }

    fn int(&mut self) -> Result<PyValue, String> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            return Err(self.unexpected("a digit"));
        }
        let text = self
            .text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_owned();
        // Python 2 era NumPy wrote long integers as `3L`.
        if matches!(self.peek(), Some(b'L' | b'l')) {
            self.pos += 1;
        }
        Ok(PyValue::Int(text))
    }

    fn name(&mut self) -> Result<PyValue, String> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.pos += 1;
        }
        let word = self.text.get(start..self.pos).unwrap_or_default();
        match word {
            "True" => Ok(PyValue::Bool(true)),
            "False" => Ok(PyValue::Bool(false)),
            "None" => Ok(PyValue::None),
            // String prefixes, as in `u'<f4'` from Python 2 era files.
            "u" | "U" | "b" | "B" if matches!(self.peek(), Some(b'\'' | b'"')) => {
                let quote = self.peek().unwrap_or(b'\'');
                self.string(quote)
            }
            _ => Err(format!(
                "expected a value at byte {start} of the header dict, found the name '{}'",
                truncate(word)
            )),
        }
    }
}

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
    let prefix = parse_prefix(path, &bytes)?;
    let end = prefix.data_offset;
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
    check_data_len(path, &header, file_len)?;
    Ok(header)
}

/// Checks that a file of `file_len` bytes holds exactly the data `header` describes.
fn check_data_len(path: &Path, header: &Header, file_len: u64) -> Result<(), NpyError> {
    let expected = header.data_len().ok_or_else(|| NpyError::TooLarge {
        path: path.to_path_buf(),
        shape: header.shape.clone(),
        itemsize: header.dtype.itemsize(),
    })? as u64;
    check_data_bytes(
        path,
        expected,
        file_len.saturating_sub(header.data_offset as u64),
    )
}

/// `found` data bytes where the header calls for `expected`: too few is truncation, too many is
/// trailing garbage.
fn check_data_bytes(path: &Path, expected: u64, found: u64) -> Result<(), NpyError> {
    if found < expected {
        return Err(NpyError::Truncated {
            path: path.to_path_buf(),
            part: "data",
            expected_bytes: expected,
            found_bytes: found,
        });
    }
    if found > expected {
        return Err(NpyError::TrailingBytes {
            path: path.to_path_buf(),
            expected_bytes: expected,
            found_bytes: found,
        });
    }
    Ok(())
}

/// Parses a whole `.npy` file held in memory (one on disk, or a member of an `.npz` archive) into
/// its header and data bytes, checked as a file on disk is: a valid header, then exactly as many
/// data bytes as it calls for. `path` names the source in errors.
pub(crate) fn split_file<'b>(path: &Path, bytes: &'b [u8]) -> Result<(Header, &'b [u8]), NpyError> {
    let header = parse_header(path, bytes)?;
    check_data_len(path, &header, bytes.len() as u64)?;
    let data = data_after(path, bytes, header.data_offset)?;
    Ok((header, data))
}

/// The bytes after a header that ends at `data_offset`.
fn data_after<'b>(path: &Path, bytes: &'b [u8], data_offset: usize) -> Result<&'b [u8], NpyError> {
    bytes.get(data_offset..).ok_or(NpyError::Truncated {
        path: path.to_path_buf(),
        part: "header",
        expected_bytes: data_offset as u64,
        found_bytes: bytes.len() as u64,
    })
}

/// Validates the header (including the file length) before reading the file, so that a file
/// of the wrong kind or size is refused without reading its data; the bytes are then parsed
/// again, since the file may have changed in between.
fn read_checked<T>(
    path: &Path,
    check: fn(&Path, &Header) -> Result<(), NpyError>,
    decode: fn(&Path, &[u8]) -> Result<T, NpyError>,
) -> Result<T, NpyError> {
    let header = read_header(path)?;
    check(path, &header)?;
    let bytes = fs::read(path).map_err(io_err(path, "read file"))?;
    decode(path, &bytes)
}

fn require_float(path: &Path, header: &Header) -> Result<(), NpyError> {
    match header.dtype {
        Dtype::F32 | Dtype::F64 => Ok(()),
        _ => Err(NpyError::UnsupportedDtype {
            path: path.to_path_buf(),
            found: format!("'{}' ({})", header.descr(), header.dtype.name()),
            expected: FLOAT_DTYPES,
        }),
    }
}

fn require_int(path: &Path, header: &Header) -> Result<(), NpyError> {
    match header.dtype {
        Dtype::F32 | Dtype::F64 => Err(NpyError::UnsupportedDtype {
            path: path.to_path_buf(),
            found: format!("'{}' ({})", header.descr(), header.dtype.name()),
            expected: INT_DTYPES,
        }),
        _ => Ok(()),
    }
}

fn wrong_dims(path: &Path, header: &Header, expected: &'static str) -> NpyError {
    NpyError::WrongDimensions {
        path: path.to_path_buf(),
        expected,
        found: header.shape.clone(),
    }
}

const MATRIX_SHAPE: &str = "2-D (rows, columns)";
const VECTOR_SHAPE: &str = "1-D (n,) or 2-D (n, 1)";
const ARRAY3_SHAPE: &str = "3-D";

fn matrix_dims(path: &Path, header: &Header) -> Result<(usize, usize), NpyError> {
    match *header.shape.as_slice() {
        [rows, cols] => Ok((rows, cols)),
        _ => Err(wrong_dims(path, header, MATRIX_SHAPE)),
    }
}

fn array3_dims(path: &Path, header: &Header) -> Result<(usize, usize, usize), NpyError> {
    match *header.shape.as_slice() {
        [a, b, c] => Ok((a, b, c)),
        _ => Err(wrong_dims(path, header, ARRAY3_SHAPE)),
    }
}

fn vector_len(path: &Path, header: &Header) -> Result<usize, NpyError> {
    match *header.shape.as_slice() {
        [n] | [n, 1] => Ok(n),
        _ => Err(wrong_dims(path, header, VECTOR_SHAPE)),
    }
}

fn check_f32_matrix(path: &Path, header: &Header) -> Result<(), NpyError> {
    require_float(path, header)?;
    matrix_dims(path, header).map(drop)
}

fn check_f32_vector(path: &Path, header: &Header) -> Result<(), NpyError> {
    require_float(path, header)?;
    vector_len(path, header).map(drop)
}

fn check_f32_array3(path: &Path, header: &Header) -> Result<(), NpyError> {
    require_float(path, header)?;
    array3_dims(path, header).map(drop)
}

fn check_i64_vector(path: &Path, header: &Header) -> Result<(), NpyError> {
    require_int(path, header)?;
    vector_len(path, header).map(drop)
}

/// Splits data into fixed-size elements; `chunks_exact` guarantees every chunk has `N` bytes.
fn elements<const N: usize>(data: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    data.chunks_exact(N).map(|chunk| {
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(chunk);
        bytes
    })
}

/// The index along each axis of the element stored at position `flat`.
fn unravel(mut flat: usize, shape: &[usize], fortran_order: bool) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    let mut step = |slot: &mut usize, &len: &usize| {
        let len = len.max(1);
        *slot = flat % len;
        flat /= len;
    };
    if fortran_order {
        index.iter_mut().zip(shape).for_each(|(s, d)| step(s, d));
    } else {
        index
            .iter_mut()
            .zip(shape)
            .rev()
            .for_each(|(s, d)| step(s, d));
    }
    index
}

/// Float data as f32 in storage order.
fn float_values(path: &Path, header: &Header, data: &[u8]) -> Result<Vec<f32>, NpyError> {
    let endian = header.endian;
    match header.dtype {
        Dtype::F32 => Ok(elements::<4>(data)
            .map(|b| match endian {
                Endian::Little => f32::from_le_bytes(b),
                Endian::Big => f32::from_be_bytes(b),
            })
            .collect()),
        Dtype::F64 => {
            let mut out = Vec::with_capacity(data.len() / 8);
            for (i, b) in elements::<8>(data).enumerate() {
                let wide = match endian {
                    Endian::Little => f64::from_le_bytes(b),
                    Endian::Big => f64::from_be_bytes(b),
                };
                let narrow = wide as f32;
                // NaN and infinities pass through so the caller can report them in context.
                if narrow.is_infinite() && wide.is_finite() {
                    return Err(NpyError::NotRepresentable {
                        path: path.to_path_buf(),
                        index: unravel(i, &header.shape, header.fortran_order),
                        value: wide,
                    });
                }
                out.push(narrow);
            }
            Ok(out)
        }
        _ => require_float(path, header).map(|()| Vec::new()),
    }
}

/// Integer or bool data as i64 in storage order.
fn int_values(path: &Path, header: &Header, data: &[u8]) -> Result<Vec<i64>, NpyError> {
    let endian = header.endian;
    macro_rules! widen {
        ($t:ty, $n:literal) => {
            elements::<$n>(data)
                .map(|b| {
                    i64::from(match endian {
                        Endian::Little => <$t>::from_le_bytes(b),
                        Endian::Big => <$t>::from_be_bytes(b),
                    })
                })
                .collect()
        };
    }
    Ok(match header.dtype {
        Dtype::I8 => widen!(i8, 1),
        Dtype::I16 => widen!(i16, 2),
        Dtype::I32 => widen!(i32, 4),
        Dtype::I64 => widen!(i64, 8),
        Dtype::U8 => widen!(u8, 1),
        Dtype::U16 => widen!(u16, 2),
        Dtype::U32 => widen!(u32, 4),
        Dtype::U64 => {
            let mut out = Vec::with_capacity(data.len() / 8);
            for (index, b) in elements::<8>(data).enumerate() {
                let value = match endian {
                    Endian::Little => u64::from_le_bytes(b),
                    Endian::Big => u64::from_be_bytes(b),
                };
                let Ok(value) = i64::try_from(value) else {
                    return Err(NpyError::IntOutOfRange {
                        path: path.to_path_buf(),
                        index,
                        value,
                    });
                };
                out.push(value);
            }
            out
        }
        Dtype::Bool => elements::<1>(data).map(|[b]| i64::from(b != 0)).collect(),
        Dtype::F32 | Dtype::F64 => return require_int(path, header).map(|()| Vec::new()),
    })
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
    let c_order: Vec<f32> = stored.iter().copied().collect();
    Array::from_shape_vec(dim, c_order).map_err(mismatch)
}

fn f32_matrix_from_bytes(path: &Path, bytes: &[u8]) -> Result<Array2<f32>, NpyError> {
    let (header, data) = split_file(path, bytes)?;
    check_f32_matrix(path, &header)?;
    let (rows, cols) = matrix_dims(path, &header)?;
    let values = float_values(path, &header, data)?;
    c_order_array(path, Ix2(rows, cols), header.fortran_order, values)
}

fn f32_vector_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<f32>, NpyError> {
    let (header, data) = split_file(path, bytes)?;
    check_f32_vector(path, &header)?;
    // (n,) and (n, 1) have the same layout in either order.
    float_values(path, &header, data)
}

fn f32_array3_from_bytes(path: &Path, bytes: &[u8]) -> Result<Array3<f32>, NpyError> {
    let (header, data) = split_file(path, bytes)?;
    check_f32_array3(path, &header)?;
    let (a, b, c) = array3_dims(path, &header)?;
    let values = float_values(path, &header, data)?;
    c_order_array(path, Ix3(a, b, c), header.fortran_order, values)
}

fn i64_vector_from_bytes(path: &Path, bytes: &[u8]) -> Result<Vec<i64>, NpyError> {
    let (header, data) = split_file(path, bytes)?;
    check_i64_vector(path, &header)?;
    int_values(path, &header, data)
}

/// Reads a 2-D float32 or float64 array as a C-order `f32` matrix.
///
/// float64 values are rounded to f32; a finite value outside the f32 range is a
/// [`NpyError::NotRepresentable`] error, while NaN and infinities pass through unchanged so the
/// caller can report them with their index. Fortran-order data is transposed into C order.
pub fn read_f32_matrix(path: &Path) -> Result<Array2<f32>, NpyError> {
    read_checked(path, check_f32_matrix, f32_matrix_from_bytes)
}

/// Reads a 1-D float32/float64 array of any length (a 2-D `(n, 1)` array is also accepted),
/// converting as [`read_f32_matrix`] does.
pub fn read_f32_vector(path: &Path) -> Result<Vec<f32>, NpyError> {
    read_checked(path, check_f32_vector, f32_vector_from_bytes)
}

/// Reads a 3-D float32/float64 array (e.g. T × n × C), in C or Fortran order, into a C-order
/// `f32` array, converting as [`read_f32_matrix`] does.
pub fn read_f32_array3(path: &Path) -> Result<Array3<f32>, NpyError> {
    read_checked(path, check_f32_array3, f32_array3_from_bytes)
}

/// Reads a 1-D array of any integer dtype or bool as `i64` (a 2-D `(n, 1)` array is also
/// accepted); bools become 0 or 1 and uint64 values above `i64::MAX` are an
/// [`NpyError::IntOutOfRange`] error.
pub fn read_i64_vector(path: &Path) -> Result<Vec<i64>, NpyError> {
    read_checked(path, check_i64_vector, i64_vector_from_bytes)
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

/// The values of an integer or bool array (any shape) as `i64`, in storage order; a float dtype is
/// an [`NpyError::UnsupportedDtype`] error.
pub(crate) fn int_data(path: &Path, header: &Header, data: &[u8]) -> Result<Vec<i64>, NpyError> {
    require_int(path, header)?;
    int_values(path, header, data)
}

/// The values of a float32 or float64 array (any shape) as `f32`, in storage order, converted as
/// [`read_f32_matrix`] does (NaN and infinities pass through); any other dtype is an
/// [`NpyError::UnsupportedDtype`] error.
pub(crate) fn float_data(path: &Path, header: &Header, data: &[u8]) -> Result<Vec<f32>, NpyError> {
    require_float(path, header)?;
    float_values(path, header, data)
}

/// What the string reader accepts.
const STRING_DTYPES: &str = "a byte string ('|S<width>') or a unicode string ('<U<width>')";

/// Kind and width (in characters) of a string dtype such as `|S3` or `<U3`.
fn parse_string_descr(path: &Path, descr: &str) -> Result<(Option<Endian>, usize), NpyError> {
    let (order, code) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (Some(c), descr.get(1..).unwrap_or("")),
        _ => (None, descr),
    };
    let unsupported = || NpyError::UnsupportedDtype {
        path: path.to_path_buf(),
        found: match describe_code(code).or(Dtype::from_code(code).map(Dtype::name)) {
            Some(kind) => format!("'{}' ({kind})", truncate(descr)),
            None => format!("'{}'", truncate(descr)),
        },
        expected: STRING_DTYPES,
    };
    let (kind, width) = code.split_at_checked(1).ok_or_else(unsupported)?;
    let width: usize = width.parse().map_err(|_| unsupported())?;
    match kind {
        // Bytes have no byte order.
        "S" | "a" => Ok((None, width)),
        "U" => Ok((
            Some(match order {
                Some('>') => Endian::Big,
                Some('<') => Endian::Little,
                _ => Endian::native(),
            }),
            width,
        )),
        _ => Err(unsupported()),
    }
}

/// The one string held by a 0-d byte-string (`|S<w>`) or unicode (`<U<w>`) array in memory, with
/// the trailing NULs NumPy pads it with removed (bytes that are not UTF-8 are replaced).
pub(crate) fn scalar_string_from_bytes(path: &Path, bytes: &[u8]) -> Result<String, NpyError> {
    let (prefix, (unicode, width), _, shape) =
        header_fields(path, bytes, |descr| parse_string_descr(path, descr))?;
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
    let data = data_after(path, bytes, prefix.data_offset)?;
    check_data_bytes(path, expected as u64, data.len() as u64)?;
    let text: String = match unicode {
        None => String::from_utf8_lossy(data).into_owned(),
        Some(endian) => elements::<4>(data)
            .map(|b| {
                let code = match endian {
                    Endian::Little => u32::from_le_bytes(b),
                    Endian::Big => u32::from_be_bytes(b),
                };
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
    };
    Ok(text.trim_end_matches('\0').to_owned())
}

/// Whether an existing output file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overwrite {
    /// An existing file at the target path is an [`NpyError::AlreadyExists`] error.
    Refuse,
    /// An existing file at the target path is replaced.
    Allow,
}

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
        let digits = len.to_string().len();
        dict.extend(std::iter::repeat_n(
            ' ',
            GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
    }
    let text_len = dict.len() + 1; // the dict plus the final newline
    for major in [1u8, 2] {
        let len_field = if major == 1 { 2 } else { 4 };
        let prefix_len = MAGIC.len() + 2 + len_field;
        let pad = ALIGN - (prefix_len + text_len) % ALIGN;
        let header_len = text_len + pad;
        let len_bytes = if major == 1 {
            match u16::try_from(header_len) {
                Ok(n) => n.to_le_bytes().to_vec(),
                Err(_) => continue,
            }
        } else {
            u32::try_from(header_len).ok()?.to_le_bytes().to_vec()
        };
        let mut out = Vec::with_capacity(prefix_len + header_len);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[major, 0]);
        out.extend_from_slice(&len_bytes);
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
    for value in values {
        out.extend_from_slice(&to_le(value));
    }
    Ok(out)
}

/// Writes a 1-D int64 array (`<i8`) atomically; see [`write_atomic`].
pub fn write_i64_vector(path: &Path, values: &[i64], overwrite: Overwrite) -> Result<(), NpyError> {
    write_atomic(path, &i64_vector_bytes(path, values)?, overwrite)
}

/// The bytes of the `.npy` file [`write_i64_vector`] writes; `path` names the output in errors.
pub fn i64_vector_bytes(path: &Path, values: &[i64]) -> Result<Vec<u8>, NpyError> {
    npy_file(
        path,
        "<i8",
        &[values.len()],
        values.iter().copied(),
        i64::to_le_bytes,
    )
}

/// Writes a 1-D float32 array (`<f4`) atomically; see [`write_atomic`].
pub fn write_f32_vector(path: &Path, values: &[f32], overwrite: Overwrite) -> Result<(), NpyError> {
    let bytes = npy_file(
        path,
        "<f4",
        &[values.len()],
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
    use super::*;
    use ndarray::array;
    use tempfile::TempDir;

    /// A hand-built `.npy` file: prefix for `major`.0, the dict padded to 64 bytes, the data.
    fn npy(major: u8, dict: &str, data: &[u8]) -> Vec<u8> {
        let len_field = if major == 1 { 2 } else { 4 };
        let mut header = dict.as_bytes().to_vec();
        while !(8 + len_field + header.len() + 1).is_multiple_of(64) {
            header.push(b' ');
        }
        header.push(b'\n');
        let mut out = b"\x93NUMPY".to_vec();
        out.extend_from_slice(&[major, 0]);
        if major == 1 {
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out
    }

    fn dict(descr: &str, fortran: bool, shape: &str) -> String {
        let fortran = if fortran { "True" } else { "False" };
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}")
    }

    fn f32_le(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn f64_le(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn put(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    fn listing(dir: &TempDir) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

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

    #[test]
    fn reads_version_2_and_3_headers() {
        let dir = TempDir::new().unwrap();
        let data = f32_le(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let path = put(
            &dir,
            "v2.npy",
            &npy(2, &dict("<f4", false, "(2, 3)"), &data),
        );
        let header = read_header(&path).unwrap();
        assert_eq!(header.data_offset % 64, 0);
        assert_eq!(
            read_f32_matrix(&path).unwrap(),
            array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]
        );
        let v3 = dict("<f4", false, "(6,)").replace("}", "'\u{e9}': 1}");
        // A v3 header is UTF-8; the unknown key proves the text was decoded, then refused.
        let path = put(&dir, "v3.npy", &npy(3, &v3, &data));
        let err = read_f32_vector(&path).unwrap_err();
        assert!(err.to_string().contains("'\u{e9}'"), "{err}");
        let path = put(
            &dir,
            "v3ok.npy",
            &npy(3, &dict("<f4", false, "(6,)"), &data),
        );
        assert_eq!(
            read_f32_vector(&path).unwrap(),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
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
    fn header_dict_syntax_variants_are_accepted() {
        let dir = TempDir::new().unwrap();
        let data = f32_le(&[1.0, 2.0]);
        let dicts = [
            "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
            "{ 'descr' :'<f4' ,\t'fortran_order':True,'shape':( 2 , ) , }",
            "{'descr': u'<f4', 'fortran_order': False, 'shape': (2L,)}",
            "{'descr': '=f4', 'fortran_order': False, 'shape': [2]}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
        ];
        for d in dicts {
            let path = put(&dir, "h.npy", &npy(1, d, &data));
            assert_eq!(
                read_f32_vector(&path).ok(),
                if d.contains("(1, 2)") {
                    None
                } else {
                    Some(vec![1.0, 2.0])
                },
                "{d}"
            );
        }
        // A 0-d array has shape ().
        let path = put(
            &dir,
            "s.npy",
            &npy(1, &dict("<f4", false, "()"), &f32_le(&[3.0])),
        );
        let header = read_header(&path).unwrap();
        assert_eq!(header.shape, Vec::<usize>::new());
        assert!(matches!(
            read_f32_vector(&path),
            Err(NpyError::WrongDimensions { ref found, .. }) if found.is_empty()
        ));
    }

    #[test]
    fn bad_magic_is_reported() {
        let dir = TempDir::new().unwrap();
        let mut bytes = npy(1, &dict("<f4", false, "(1,)"), &f32_le(&[1.0]));
        bytes[1] = b'X';
        let path = put(&dir, "m.npy", &bytes);
        let err = read_f32_vector(&path).unwrap_err();
        assert!(matches!(err, NpyError::BadMagic { .. }), "{err}");
        assert!(err.to_string().contains("m.npy"), "{err}");
        let path = put(&dir, "csv.npy", b"1,2,3\n");
        assert!(matches!(read_header(&path), Err(NpyError::BadMagic { .. })));
    }

    #[test]
    fn unsupported_version_is_reported() {
        let dir = TempDir::new().unwrap();
        let mut bytes = npy(1, &dict("<f4", false, "(1,)"), &f32_le(&[1.0]));
        bytes[6] = 9;
        let path = put(&dir, "v.npy", &bytes);
        let err = read_f32_vector(&path).unwrap_err();
        assert!(
            matches!(
                err,
                NpyError::UnsupportedVersion {
                    major: 9,
                    minor: 0,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("9.0"), "{err}");
    }

    #[test]
    fn truncated_data_names_expected_and_found_bytes() {
        let dir = TempDir::new().unwrap();
        let bytes = npy(1, &dict("<f4", false, "(2, 3)"), &f32_le(&[1.0; 5]));
        let path = put(&dir, "t.npy", &bytes);
        let err = read_f32_matrix(&path).unwrap_err();
        assert!(
            matches!(
                err,
                NpyError::Truncated {
                    part: "data",
                    expected_bytes: 24,
                    found_bytes: 20,
                    ..
                }
            ),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("24") && message.contains("20"),
            "{message}"
        );
        // read_header validates the length too.
        assert!(matches!(
            read_header(&path),
            Err(NpyError::Truncated { .. })
        ));

        let path = put(&dir, "h.npy", &bytes[..40]);
        assert!(matches!(
            read_header(&path),
            Err(NpyError::Truncated {
                part: "header",
                expected_bytes: 128,
                found_bytes: 40,
                ..
            })
        ));
        let path = put(&dir, "empty.npy", &[]);
        assert!(matches!(
            read_header(&path),
            Err(NpyError::Truncated { .. })
        ));
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let dir = TempDir::new().unwrap();
        let bytes = npy(1, &dict("<f4", false, "(2,)"), &f32_le(&[1.0, 2.0, 3.0]));
        let path = put(&dir, "t.npy", &bytes);
        let err = read_f32_vector(&path).unwrap_err();
        assert!(
            matches!(
                err,
                NpyError::TrailingBytes {
                    expected_bytes: 8,
                    found_bytes: 12,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn absurd_shape_is_too_large_without_allocating() {
        let dir = TempDir::new().unwrap();
        let huge = "(1000000000000000, 1000000000000000)";
        let path = put(&dir, "h.npy", &npy(1, &dict("<f4", false, huge), &[0; 16]));
        let err = read_f32_matrix(&path).unwrap_err();
        assert!(
            matches!(err, NpyError::TooLarge { itemsize: 4, .. }),
            "{err}"
        );
        // Zero rows make the data empty, but ndarray still needs the other axes to fit.
        let path = put(
            &dir,
            "z.npy",
            &npy(
                1,
                &dict("<f4", false, "(0, 1000000000000000, 1000000000000000)"),
                &[],
            ),
        );
        assert!(matches!(
            read_f32_array3(&path),
            Err(NpyError::TooLarge { .. })
        ));
    }

    #[test]
    fn claimed_size_is_checked_against_file_length_before_reading() {
        let dir = TempDir::new().unwrap();
        let path = put(
            &dir,
            "h.npy",
            &npy(1, &dict("<f4", false, "(1000000000,)"), &[0; 16]),
        );
        let err = read_f32_vector(&path).unwrap_err();
        assert!(
            matches!(
                err,
                NpyError::Truncated {
                    part: "data",
                    expected_bytes: 4_000_000_000,
                    found_bytes: 16,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn oversized_header_length_is_refused() {
        let dir = TempDir::new().unwrap();
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(b"{}");
        let path = put(&dir, "h.npy", &bytes);
        assert!(matches!(
            read_header(&path),
            Err(NpyError::HeaderTooLarge {
                found: 4_294_967_295,
                ..
            })
        ));
    }

    #[test]
    fn unsupported_dtypes_name_what_was_found() {
        let dir = TempDir::new().unwrap();
        let cases = [
            (dict("<c8", false, "(1,)"), "<c8"),
            (dict("|O", false, "(1,)"), "|O"),
            (dict("<f2", false, "(1,)"), "<f2"),
            (dict("<U5", false, "(1,)"), "<U5"),
            (
                "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }"
                    .to_owned(),
                "('x', '<f4')",
            ),
        ];
        for (d, found) in cases {
            let path = put(&dir, "d.npy", &npy(1, &d, &[0; 8]));
            let err = read_f32_vector(&path).unwrap_err();
            assert!(
                matches!(err, NpyError::UnsupportedDtype { .. }),
                "{d}: {err}"
            );
            assert!(err.to_string().contains(found), "{err}");
        }
        // Supported dtypes of the wrong kind for the function called.
        let path = put(&dir, "i.npy", &npy(1, &dict("<i8", false, "(1,)"), &[0; 8]));
        let err = read_f32_vector(&path).unwrap_err();
        assert!(
            err.to_string().contains("'<i8' (int64)") && err.to_string().contains("float32"),
            "{err}"
        );
        let path = put(&dir, "f.npy", &npy(1, &dict("<f8", false, "(1,)"), &[0; 8]));
        assert!(matches!(
            read_i64_vector(&path),
            Err(NpyError::UnsupportedDtype { .. })
        ));
    }

    #[test]
    fn missing_key_is_named() {
        let dir = TempDir::new().unwrap();
        let d = "{'descr': '<f4', 'shape': (1,), }";
        let path = put(&dir, "k.npy", &npy(1, d, &[0; 4]));
        let err = read_f32_vector(&path).unwrap_err();
        assert!(matches!(err, NpyError::BadHeader { .. }), "{err}");
        assert!(
            err.to_string().contains("missing key 'fortran_order'"),
            "{err}"
        );
    }

    #[test]
    fn malformed_dicts_are_bad_headers() {
        let dir = TempDir::new().unwrap();
        let cases = [
            "",
            "{",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
            "{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': 1}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': 4, 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk",
            "['descr', '<f4']",
        ];
        for d in cases {
            let path = put(&dir, "b.npy", &npy(1, d, &[0; 4]));
            let err = read_f32_vector(&path).unwrap_err();
            assert!(matches!(err, NpyError::BadHeader { .. }), "{d:?}: {err}");
        }
    }

    #[test]
    fn deeply_nested_header_is_refused_without_overflowing_the_stack() {
        let d = format!("{{'descr': {}, }}", "[".repeat(100_000));
        let bytes = npy(2, &d, &[]);
        let err = parse_header(Path::new("deep.npy"), &bytes).unwrap_err();
        assert!(err.to_string().contains("nested"), "{err}");
    }

    #[test]
    fn wrong_dimensions_name_the_shape() {
        let dir = TempDir::new().unwrap();
        let path = put(
            &dir,
            "v.npy",
            &npy(1, &dict("<f4", false, "(3,)"), &f32_le(&[1.0; 3])),
        );
        let err = read_f32_matrix(&path).unwrap_err();
        assert!(
            matches!(err, NpyError::WrongDimensions { expected: MATRIX_SHAPE, ref found, .. } if found == &[3]),
            "{err}"
        );
        assert!(
            err.to_string().contains("(3,)") && err.to_string().contains("2-D"),
            "{err}"
        );
        assert!(matches!(
            read_f32_array3(&path),
            Err(NpyError::WrongDimensions { .. })
        ));
        let path = put(
            &dir,
            "m.npy",
            &npy(1, &dict("<f4", false, "(3, 2)"), &f32_le(&[1.0; 6])),
        );
        assert!(matches!(
            read_f32_vector(&path),
            Err(NpyError::WrongDimensions { .. })
        ));
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

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Runs every decoder on `bytes`; any result is fine, a panic fails the test.
    fn decode_all(bytes: &[u8]) -> bool {
        let path = Path::new("fuzz.npy");
        let _ = parse_header(path, bytes);
        let results = [
            f32_matrix_from_bytes(path, bytes).is_ok(),
            f32_vector_from_bytes(path, bytes).is_ok(),
            f32_array3_from_bytes(path, bytes).is_ok(),
            i64_vector_from_bytes(path, bytes).is_ok(),
        ];
        results.iter().any(|&ok| ok)
    }

    #[test]
    fn corrupted_and_truncated_files_never_panic() {
        let seeds = [
            npy(1, &dict("<f8", true, "(3, 4)"), &f64_le(&[1e300; 12])),
            npy(2, &dict(">f4", false, "(2, 2, 3)"), &[0x7f; 48]),
            npy(1, &dict("<u8", false, "(4,)"), &[0xff; 32]),
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for bytes in &seeds {
            for len in 0..bytes.len() {
                assert!(!decode_all(&bytes[..len]), "prefix of {len} bytes decoded");
            }
            for round in 0..400 {
                let mut corrupted = bytes.clone();
                // Half the corruptions target the header, where the parser does its work.
                let span = if round % 2 == 0 {
                    128.min(bytes.len())
                } else {
                    bytes.len()
                };
                let at = (rng.next() % span as u64) as usize;
                corrupted[at] ^= (rng.next() % 255 + 1) as u8;
                decode_all(&corrupted);
                // Also overwrite with printable characters that steer the dict parser.
                let chars = b"()[]{},:'\"-0123456789 TrueFalse\\L";
                corrupted[at] = chars[(rng.next() % chars.len() as u64) as usize];
                decode_all(&corrupted);
            }
        }
        // The same through files, which adds the metadata pre-check.
        let dir = TempDir::new().unwrap();
        for round in 0..50 {
            let mut corrupted = seeds[0].clone();
            let at = (rng.next() % 128) as usize;
            corrupted[at] ^= (rng.next() % 255 + 1) as u8;
            let path = put(&dir, &format!("{round}.npy"), &corrupted);
            let _ = read_header(&path);
            let _ = read_f32_matrix(&path);
            let _ = read_i64_vector(&path);
        }
    }
}
