//! The error of every `.npy` reader and writer, and the helpers that build it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Errors from reading or writing `.npy` files (and from [`write_atomic`](super::write_atomic)).
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
    /// The header length field exceeds [`MAX_HEADER_LEN`](super::MAX_HEADER_LEN).
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
    /// The output exists and [`Overwrite::Refuse`](crate::npy::Overwrite::Refuse) was given.
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
pub(crate) struct PyShape<'a>(pub(crate) &'a [usize]);

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

pub(crate) fn io_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(io::Error) -> NpyError + 'a {
    move |source| NpyError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

pub(crate) fn bad_header(path: &Path, reason: impl Into<String>) -> NpyError {
    NpyError::BadHeader {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}
