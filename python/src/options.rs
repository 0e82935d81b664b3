//! Python keywords → the command line's arguments, parsed by the command's own clap definition.
//!
//! `select(keep=0.1, method="sims", quota_classes=[1, 2])` becomes
//! `--keep=0.1 --method=sims --quota-classes=1,2` and is parsed by the same `SelectArgs` the
//! `infoprune select` command parses, so every option, default, value check and conflict is the
//! command line's. An input array becomes its option with a placeholder value (its data travels
//! separately); an output path left out becomes the empty path, which the in-memory commands skip.

use clap::builder::Resettable;
use clap::{ArgAction, Args, Command, FromArgMatches, Id};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyTuple};
use std::path::PathBuf;

/// How one command's keywords are read.
pub struct Spec<'a> {
    /// The Python function's name, for error messages.
    pub function: &'a str,
    /// Keywords that carry arrays: passed as the option with a placeholder value.
    pub inputs: &'a [&'a str],
    /// Options of the command line that the Python function does not take (with why, for the
    /// error message).
    pub excluded: &'a [&'a str],
}

/// The value an input array's option gets: its data is passed beside the arguments.
pub fn placeholder(name: &str) -> String {
    format!("<{name} array>")
}

/// What `out` holds when the keyword was not given (clap refuses an empty path as a default);
/// [`output`] turns it into the empty path the in-memory commands skip.
const NO_OUTPUT: &str = "<no output>";

/// The `out` path as parsed, or the empty path when the keyword was not given.
pub fn output(out: PathBuf) -> PathBuf {
    if out.as_os_str() == NO_OUTPUT {
        PathBuf::new()
    } else {
        out
    }
}

/// The clap command of `T` as the Python functions use it: no help or version flags, and `out`
/// optional (see [`output`]).
fn command<T: Args>(name: &'static str) -> Command {
    let command = T::augment_args(Command::new(name))
        .no_binary_name(true)
        .disable_help_flag(true)
        .disable_version_flag(true);
    let out = command
        .get_arguments()
        .find(|a| a.get_id() == "out")
        .map(|a| a.is_required_set());
    match out {
        // `out: PathBuf`: a value must come, so the placeholder [`output`] recognises.
        Some(true) => command.mut_arg("out", |a| a.required(false).default_value(NO_OUTPUT)),
        // `out: Option<PathBuf>` (select's, required unless --dry-run, which Python has not).
        Some(false) => command.mut_arg("out", |a| {
            a.required_unless_present(Resettable::<Id>::Reset)
        }),
        None => command,
    }
}

/// Every keyword the command takes (its options' ids, which clap derives from the field names:
/// the long option in snake case).
pub fn keywords<T: Args>(name: &'static str, spec: &Spec) -> Vec<String> {
    command::<T>(name)
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .filter(|id| !spec.excluded.contains(&id.as_str()))
        .collect()
}

/// One keyword's value as the text of a command-line value.
fn text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(value.str()?.to_string())
}

/// Parses `options` (keyword → value; `None` means not given), then the command-line arguments
/// `extra`, into the command's arguments.
///
/// # Errors
/// `TypeError` for an unknown keyword, a flag that is not a bool or a missing required option;
/// `ValueError` with the command line's message for a value it refuses.
pub fn parse<T: Args + FromArgMatches>(
    name: &'static str,
    spec: &Spec,
    options: &Bound<'_, PyDict>,
    extra: &[String],
) -> PyResult<T> {
    let command = command::<T>(name);
    let mut argv: Vec<String> = extra.to_vec();
    for (key, value) in options.iter() {
        let key: String = key.extract()?;
        let arg = command
            .get_arguments()
            .find(|a| a.get_id() == key.as_str())
            .filter(|_| !spec.excluded.contains(&key.as_str()))
            .ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "{}() got an unexpected keyword argument '{key}'",
                    spec.function
                ))
            })?;
        if value.is_none() {
            continue;
        }
        let long = arg
            .get_long()
            .expect("every infoprune option has a long name");
        if spec.inputs.contains(&key.as_str()) {
            argv.push(format!("--{long}={}", placeholder(&key)));
            continue;
        }
        let is_bool = value.is_instance_of::<PyBool>();
        match arg.get_action() {
            ArgAction::SetTrue => {
                if !is_bool {
                    return Err(PyTypeError::new_err(format!(
                        "{}() argument '{key}' must be True or False, found {}",
                        spec.function,
                        value.get_type().name()?
                    )));
                }
                if value.is_truthy()? {
                    argv.push(format!("--{long}"));
                }
            }
            action => {
                if is_bool {
                    return Err(PyTypeError::new_err(format!(
                        "{}() argument '{key}' takes a value, not {}",
                        spec.function,
                        text(&value)?
                    )));
                }
                let many = matches!(action, ArgAction::Append)
                    && (value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>());
                let text = if many {
                    value
                        .try_iter()?
                        .map(|v| text(&v?))
                        .collect::<PyResult<Vec<_>>>()?
                        .join(",")
                } else {
                    text(&value)?
                };
                // `--name=value`, so that a value starting with '-' is never read as an option.
                argv.push(format!("--{long}={text}"));
            }
        }
    }
    let matches = command
        .try_get_matches_from(&argv)
        .map_err(|e| usage_error(spec.function, &e))?;
    T::from_arg_matches(&matches).map_err(|e| usage_error(spec.function, &e))
}

/// A clap error as a Python exception, with clap's message less the usage lines and the hint
/// to try `--help` (which are for a shell).
fn usage_error(function: &str, error: &clap::Error) -> PyErr {
    let rendered = error.render().to_string();
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let text = lines.join(" ");
    let message = format!(
        "{function}(): {}",
        text.strip_prefix("error: ").unwrap_or(&text)
    );
    match error.kind() {
        clap::error::ErrorKind::MissingRequiredArgument => PyTypeError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}
