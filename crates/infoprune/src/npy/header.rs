//! The `.npy` header: the fixed prefix (magic, version, length), then the dict, whose text
//! `py_literal` parses into Python values that are checked here key by key, and the dtype string.
//! Every fault is an [`NpyError`] naming the file, what was expected and what was found.
//!
//! Why not the crates' own header readers: ndarray-npy keeps its parser private and npyz's answers
//! in `io::Error` strings; both allocate the length a header claims before checking it, neither
//! reads Python 2 era headers (`u'<f4'`, `(3L,)`) that NumPy still loads, and neither refuses a
//! key given twice (npyz also ignores unknown keys, ndarray-npy refuses a list as the shape).

use super::dtype::{Dtype, Endian};
use super::error::{bad_header, NpyError};
use py_literal::Value as PyValue;
use std::path::Path;

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
pub(super) fn byte_len(shape: &[usize], itemsize: usize) -> Option<usize> {
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

/// The first six bytes of every `.npy` file.
pub(super) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Largest header (the dict text plus padding) a reader accepts, in bytes.
///
/// NumPy's own headers are a few hundred bytes; the cap stops a hostile length field from
/// making the reader buffer gigabytes before it has parsed anything.
pub const MAX_HEADER_LEN: usize = 1 << 20;

/// Nesting depth of brackets a header may have; `py_literal`'s parser recurses, so a hostile
/// header such as `[[[[…` is refused before it reaches it.
const MAX_NESTING: usize = 32;

/// Longest run of digits a header may hold: far more than any dimension (20 digits) needs.
const MAX_DIGITS: usize = 100;

/// Every dtype the readers understand, for error messages.
const SUPPORTED_DTYPES: &str = "float32, float64, int8/16/32/64, uint8/16/32/64 or bool \
     ('<f4', '<f8', '|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8', '|b1'; \
     big-endian '>' also accepted)";

/// The fixed-size part of a file before the header dict.
pub(crate) struct Prefix {
    major: u8,
    len: usize,
    /// Where the data starts: the end of the header.
    pub(crate) data_offset: usize,
}

pub(super) fn parse_prefix(path: &Path, bytes: &[u8]) -> Result<Prefix, NpyError> {
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
pub(super) fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header, NpyError> {
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
