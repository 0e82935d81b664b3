//! The element types and byte orders of the `.npy` arrays this crate reads.

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

    pub(super) fn from_code(code: &str) -> Option<Dtype> {
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
