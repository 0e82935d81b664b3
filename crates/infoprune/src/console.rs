//! Lines for the user on stdout and stderr that fail with an error instead of a panic.
//!
//! `println!` and `eprintln!` panic when the write fails (a full disk behind `> file`, a closed
//! pipe behind `| head`). Every line the commands print goes through [`outln!`](crate::outln) or
//! [`errln!`](crate::errln) instead, which return [`Error::Console`]; `main` ends quietly with
//! exit 0 on a closed pipe, as Unix tools do, and with a one-line error and exit 1 otherwise.

use crate::error::{Error, Result};
use std::fmt;
use std::io::{self, Write};

/// Which standard stream a line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output: results (tables, JSON).
    Stdout,
    /// Standard error: summaries, notes, warnings.
    Stderr,
}

impl Stream {
    /// `stdout` or `stderr`.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// Writes `args` and a newline to `stream` and flushes it, so that a failure surfaces here and
/// not at exit, where it would be lost.
pub fn line(stream: Stream, args: fmt::Arguments) -> Result<()> {
    let result = match stream {
        Stream::Stdout => {
            let mut out = io::stdout().lock();
            writeln!(out, "{args}").and_then(|()| out.flush())
        }
        Stream::Stderr => {
            let mut err = io::stderr().lock();
            writeln!(err, "{args}").and_then(|()| err.flush())
        }
    };
    result.map_err(|source| Error::Console {
        stream: stream.name(),
        source,
    })
}

/// `println!` that returns [`Error::Console`](crate::Error::Console) instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::console::line($crate::console::Stream::Stdout, format_args!($($arg)*))
    };
}

/// `eprintln!` that returns [`Error::Console`](crate::Error::Console) instead of panicking.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::console::line($crate::console::Stream::Stderr, format_args!($($arg)*))
    };
}
