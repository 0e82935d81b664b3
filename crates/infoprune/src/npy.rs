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
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array, Array2, Array3, ArrayView2, Dimension, Ix2, Ix3, ShapeBuilder};
use ndarray_npy::{ReadableElement, ViewElement};
use py_literal::Value as PyValue;

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

/// Nesting depth of brackets a header may have; `py_literal`'s parser recurses, so a hostile
/// header such as `[[[[…` is refused before it reaches it.
const MAX_NESTING: usize = 32;

/// Longest run of digits a header may hold: far more than any dimension (20 digits) needs.
const MAX_DIGITS: usize = 100;

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
                rest.iter().try_for_each(|d| write!(f, ", {d}"))?;
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

/// Every [`Dtype`] in declaration order, with NumPy's type code (without the byte-order
/// character) and its name.
const DTYPES: [(Dtype, &str, &str); 11] = [
    (Dtype::F32, "f4", "float32"),
    (Dtype::F64, "f8", "float64"),
    (Dtype::I8, "i1", "int8"),
    (Dtype::I16, "i2", "int16"),
    (Dtype::I32, "i4", "int32"),
    (Dtype::I64, "i8", "int64"),
    (Dtype::U8, "u1", "uint8"),
    (Dtype::U16, "u2", "uint16"),
    (Dtype::U32, "u4", "uint32"),
    (Dtype::U64, "u8", "uint64"),
    (Dtype::Bool, "b1", "bool"),
];

impl Dtype {
    /// Size of one element in bytes.
    pub fn itemsize(self) -> usize {
        // Every code is a kind letter then the size in bytes, one digit.
        usize::from(self.code().as_bytes()[1] - b'0')
    }

    /// NumPy's type code without the byte-order character, e.g. `f4`.
    pub fn code(self) -> &'static str {
        DTYPES[self as usize].1
    }

    /// NumPy's name for the type, e.g. `float32`.
    pub fn name(self) -> &'static str {
        DTYPES[self as usize].2
    }

    fn from_code(code: &str) -> Option<Dtype> {
        let code = if code == "?" { "b1" } else { code };
        DTYPES.iter().find(|d| d.1 == code).map(|d| d.0)
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
    /// The order of `<`, `>`, or (for `|`, `=` and none, as NumPy reads them) this machine.
    pub(crate) fn of(order: Option<char>) -> Endian {
        match order {
            Some('<') => Endian::Little,
            Some('>') => Endian::Big,
            _ if cfg!(target_endian = "big") => Endian::Big,
            _ => Endian::Little,
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
    /// The dtype string as NumPy writes it, e.g. `<f4`, `>i8` or `|u1` (and as ndarray-npy reads
    /// it).
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
pub(crate) struct Prefix {
    major: u8,
    len: usize,
    /// Where the data starts: the end of the header.
    pub(crate) data_offset: usize,
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
    let (Some(&major), Some(&minor)) = (bytes.get(6), bytes.get(7)) else {
        return Err(truncated(10));
    };
    let len = match (major, minor) {
        (1, 0) => 10,
        (2, 0) | (3, 0) => 12,
        _ => {
            return Err(NpyError::UnsupportedVersion {
                path: path.to_path_buf(),
                major,
                minor,
            })
        }
    };
    let field = bytes.get(8..len).ok_or_else(|| truncated(len))?;
    let header_len = field
        .iter()
        .rev()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    if header_len > MAX_HEADER_LEN as u64 {
        return Err(NpyError::HeaderTooLarge {
            path: path.to_path_buf(),
            found: header_len,
            max: MAX_HEADER_LEN as u64,
        });
    }
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

/// The header text made fit for `py_literal` the way NumPy's own `_filter_header` does for
/// Python 2 era files: the `L` of long integers and the `u`/`b` prefixes of strings become spaces,
/// as do line breaks (which Python allows inside brackets), so every character keeps its place
/// for error messages. On the way, brackets and quotes are matched (which names the commonest
/// faults, a cut or unbalanced header, more precisely than the parser can) and nesting and the
/// length of numbers are bounded: `py_literal` recurses, and big integers take quadratic time.
fn filter_header(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let (mut quote, mut escaped, mut digits) = (None, false, 0usize);
    let mut open: Vec<char> = Vec::new();
    let at = |pos: usize, want: &str, found: char| {
        format!("expected {want} at byte {pos} of the header dict, found {found:?}")
    };
    for (pos, c) in text.char_indices() {
        let mut keep = c;
        if let Some((q, _)) = quote {
            quote = quote.filter(|_| escaped || c != q);
            escaped = !escaped && c == '\\';
        } else {
            match c {
                '\'' | '"' => {
                    quote = Some((c, pos));
                    let mut before = out.chars().rev();
                    if matches!(before.next(), Some('u' | 'U' | 'b' | 'B'))
                        && !before
                            .next()
                            .is_some_and(|p| p.is_alphanumeric() || p == '_')
                    {
                        out.pop();
                        out.push(' ');
                    }
                }
                'L' | 'l' if digits > 0 => keep = ' ',
                '\n' | '\r' | '\x0b' => keep = ' ',
                '(' | '[' | '{' if open.len() == MAX_NESTING => {
                    return Err(format!(
                        "expected at most {MAX_NESTING} levels of nested brackets, found more at \
                         byte {pos}"
                    ))
                }
                '(' => open.push(')'),
                '[' => open.push(']'),
                '{' => open.push('}'),
                ')' | ']' | '}' => match open.pop() {
                    Some(want) if want != c => return Err(at(pos, &format!("{want:?}"), c)),
                    None => return Err(at(pos, "the end of the header after the dict", c)),
                    Some(_) => {}
                },
                _ => {}
            }
        }
        digits = if quote.is_none() && c.is_ascii_digit() {
            digits + 1
        } else {
            0
        };
        if digits > MAX_DIGITS {
            return Err(format!(
                "expected numbers of at most {MAX_DIGITS} digits, found a longer one at byte {pos}"
            ));
        }
        out.push(keep);
    }
    let end = text.len();
    match (quote, open.last()) {
        (Some((q, start)), _) => Err(format!(
            "expected a closing {q} for the string starting at byte {start}, found the end of the \
             header"
        )),
        (None, Some(want)) => Err(format!(
            "expected {want:?} at byte {end} of the header dict, found the end of the header"
        )),
        (None, None) => Ok(out),
    }
}

/// What `py_literal` found wrong with `text`, said in one line with the byte and the token where
/// it happened (pest's report spans lines, quotes the whole header and names grammar rules).
fn syntax_reason(text: &str, error: py_literal::ParseError) -> String {
    let report = error.to_string();
    let column = report
        .split("-->")
        .nth(1)
        .and_then(|s| s.split(|c: char| c == ':' || c.is_whitespace()).nth(2))
        .and_then(|c| c.parse::<usize>().ok());
    let mut starts = text.char_indices().map(|(b, _)| b).chain([text.len()]);
    let Some(mut byte) = column.and_then(|c| starts.nth(c.checked_sub(1)?)) else {
        return truncate(&report);
    };
    let rules = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("= expected "));
    let rules: Vec<&str> = rules.unwrap_or("value").split([',', ' ']).collect();
    let any = |part: &str| rules.iter().any(|r| r.contains(part));
    let wanted = if any("string") || any("escape") {
        // pest stops at the closing quote when what follows a string is wrong.
        byte += text[byte..].chars().next().map_or(0, char::len_utf8);
        byte += text[byte..].len() - text[byte..].trim_start().len();
        "':', ',' or a closing bracket after the string"
    } else if any("digit") || any("exponent") {
        "the rest of the number, or ',' after it (a one-element tuple is written (n,))"
    } else if any("EOI") {
        "the end of the header after the dict"
    } else {
        "a value"
    };
    let rest = &text[byte..];
    let found = match rest.chars().next() {
        None => "the end of the header".to_owned(),
        Some(c) if c.is_alphabetic() => {
            let name = rest
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .next();
            format!("the name '{}'", truncate(name.unwrap_or_default()))
        }
        Some(c) => format!("{c:?}"),
    };
    format!(
        "expected {wanted} at byte {byte} of the header dict, found {found} (a .npy header is a \
         Python dict such as {{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }})"
    )
}

/// The prefix and the three header keys of the file at the start of `bytes`; the `descr` string
/// is interpreted by `descr_of` (called before `fortran_order` and `shape` are checked, so the
/// dtype is the first thing a header is judged by).
pub(crate) fn header_fields<T>(
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
    let bad = |reason: String| bad_header(path, reason);
    let expected =
        |what: &str, found: &PyValue| bad(format!("expected {what}, found {}", repr(found)));
    let text: String = if prefix.major >= 3 {
        std::str::from_utf8(raw)
            .map_err(|e| bad(format!("expected UTF-8 text in a version 3 header: {e}")))?
            .to_owned()
    } else {
        // Versions 1 and 2 are latin-1, where every byte is the code point of the same value.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let dict = match filter_header(&text).map_err(bad)?.parse::<PyValue>() {
        Ok(PyValue::Dict(entries)) => entries,
        Ok(other) => return Err(expected("a dict", &other)),
        Err(e) => return Err(bad(syntax_reason(&text, e))),
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in dict {
        let slot = match &key {
            PyValue::String(k) if k == "descr" => &mut descr,
            PyValue::String(k) if k == "fortran_order" => &mut fortran,
            PyValue::String(k) if k == "shape" => &mut shape,
            PyValue::String(k) => {
                return Err(bad(format!(
                    "unexpected key '{}': expected only 'descr', 'fortran_order' and 'shape'",
                    truncate(k)
                )))
            }
            other => {
                return Err(bad(format!(
                    "expected string keys, found key {}",
                    repr(other)
                )))
            }
        };
        if slot.replace(value).is_some() {
            return Err(bad(format!("key {} appears twice", repr(&key))));
        }
    }
    let missing = |key: &str| bad(format!("missing key '{key}'"));
    let descr = descr.ok_or_else(|| missing("descr"))?;
    let fortran = fortran.ok_or_else(|| missing("fortran_order"))?;
    let shape = shape.ok_or_else(|| missing("shape"))?;
    let described = match &descr {
        PyValue::String(s) => descr_of(s)?,
        PyValue::List(_) => {
            return Err(NpyError::UnsupportedDtype {
                path: path.to_path_buf(),
                found: format!("{} (a structured dtype)", repr(&descr)),
                expected: SUPPORTED_DTYPES,
            })
        }
        other => return Err(expected("'descr' to be a string", other)),
    };
    let PyValue::Boolean(fortran_order) = fortran else {
        return Err(expected("'fortran_order' to be True or False", &fortran));
    };
    let (PyValue::Tuple(dims) | PyValue::List(dims)) = &shape else {
        return Err(expected("'shape' to be a tuple of integers", &shape));
    };
    let shape = dims
        .iter()
        .map(|dim| match dim {
            PyValue::Integer(int) => usize::try_from(int).map_err(|_| {
                let text = int.to_string();
                bad(if text.starts_with('-') {
                    format!("expected non-negative dimensions in 'shape', found {text}")
                } else {
                    let bits = usize::BITS;
                    format!("expected dimensions below 2^{bits} in 'shape', found {text}")
                })
            }),
            other => Err(expected("'shape' to hold non-negative integers", other)),
        })
        .collect::<Result<Vec<usize>, NpyError>>()?;
    Ok((prefix, described, fortran_order, shape))
}

/// The byte-order character (if any) and the type code of a dtype string.
pub(crate) fn split_descr(descr: &str) -> (Option<char>, &str) {
    match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (Some(c), descr.get(1..).unwrap_or("")),
        _ => (None, descr),
    }
}

fn parse_descr(path: &Path, descr: &str) -> Result<(Dtype, Endian), NpyError> {
    let (order, code) = split_descr(descr);
    let dtype = Dtype::from_code(code).ok_or_else(|| unsupported(path, descr, SUPPORTED_DTYPES))?;
    Ok((dtype, Endian::of(order)))
}

/// An [`NpyError::UnsupportedDtype`] for `descr`, described where NumPy's code is known.
pub(crate) fn unsupported(path: &Path, descr: &str, expected: &'static str) -> NpyError {
    let code = split_descr(descr).1;
    let kind = describe_code(code).or(Dtype::from_code(code).map(Dtype::name));
    NpyError::UnsupportedDtype {
        path: path.to_path_buf(),
        found: match kind {
            Some(kind) => format!("'{}' ({kind})", truncate(descr)),
            None => format!("'{}'", truncate(descr)),
        },
        expected,
    }
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
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A header value as Python writes it, cut to a readable length.
fn repr(value: &PyValue) -> String {
    // Formatting fails only for an empty set, which has no literal and so is never parsed.
    truncate(&value.format_ascii().unwrap_or_else(|_| "set()".into()))
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
    use super::*;
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
