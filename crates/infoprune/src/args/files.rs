//! The per-sample input files the commands read (each checked against the data's `n`), and the
//! checks and policy of their output paths.

use crate::error::{Error, Result};
use crate::npy::NpyError;
use crate::npy::{self, Overwrite};
use crate::outputs::{ends_in_separator, folder_of, Temp, NAME_MAX};
use infoprune_core::scores::{compute_scores, Logits, ScoreKind, ScoreOptions};
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub(crate) fn overwrite(force: bool) -> Overwrite {
    if force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    }
}

fn bad(flag: &str, path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Usage(format!("--{flag} {}: {reason}", path.display()))
}

/// The file name of an output path, or why the path cannot name a file.
fn file_name<'a>(flag: &str, path: &'a Path) -> Result<&'a OsStr> {
    if path.as_os_str().is_empty() {
        return Err(Error::Usage(format!(
            "--{flag} is empty: expected a file path"
        )));
    }
    if ends_in_separator(path) {
        return Err(bad(
            flag,
            path,
            "ends in a path separator: expected a file name, not a folder",
        ));
    }
    path.file_name()
        .ok_or_else(|| bad(flag, path, "does not end in a file name"))
}

/// Checks every output of a command before any work is done: each path must end in a file name
/// of at most [`NAME_MAX`] bytes, inside an existing folder that a file can be created in; it must
/// not be a folder, nor exist at all without `force`; and no two outputs may be the same file.
/// `outputs` pairs each option name (without `--`) with its path.
///
/// # Errors
/// [`Error::Usage`] naming the option and the user's path, or [`NpyError::AlreadyExists`].
pub(crate) fn check_outputs(outputs: &[(&str, &Path)], force: bool) -> Result<()> {
    let mut seen: Vec<(&str, &Path, PathBuf)> = Vec::new();
    for &(flag, path) in outputs {
        let name = file_name(flag, path)?;
        if name.len() > NAME_MAX {
            return Err(bad(
                flag,
                path,
                format_args!(
                    "the file name is {} bytes long: expected at most {NAME_MAX}",
                    name.len()
                ),
            ));
        }
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(bad(flag, path, "is a folder: expected a file path"))
            }
            Ok(_) if !force => {
                return Err(NpyError::AlreadyExists {
                    path: path.to_path_buf(),
                }
                .into())
            }
            _ => {}
        }
        let folder = folder_of(path);
        match fs::metadata(folder) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(bad(
                    flag,
                    path,
                    format_args!("{} is not a folder", folder.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(bad(
                    flag,
                    path,
                    format_args!("the folder {} does not exist", folder.display()),
                ))
            }
            Err(e) => {
                return Err(bad(
                    flag,
                    path,
                    format_args!("cannot use the folder {}: {e}", folder.display()),
                ))
            }
        }
        // Proves that a file can be created there (permissions, a read-only mount) now rather
        // than after the work; the probe is removed at once.
        if let Err(e) = Temp::new(folder) {
            return Err(bad(
                flag,
                path,
                format_args!("cannot create a file in {}: {e}", folder.display()),
            ));
        }
        let key = fs::canonicalize(folder)
            .unwrap_or_else(|_| folder.to_path_buf())
            .join(name);
        if let Some((other, other_path, _)) = seen.iter().find(|(_, _, k)| *k == key) {
            return Err(Error::Usage(format!(
                "--{flag} {} and --{other} {} are the same file: expected different outputs",
                path.display(),
                other_path.display()
            )));
        }
        seen.push((flag, path, key));
    }
    Ok(())
}

/// Reads a per-sample vector that must have `n` values; `source` says where `n` comes from
/// ("the embeddings have", "the graph K.npz has").
pub(crate) fn read_vector(path: &Path, what: &str, n: usize, source: &str) -> Result<Vec<f32>> {
    let v = npy::read_f32_vector(path)?;
    if v.len() != n {
        return Err(Error::Usage(format!(
            "{what} {} has {} values but {source} n = {n} rows",
            path.display(),
            v.len()
        )));
    }
    Ok(v)
}

pub(crate) fn read_labels(path: &Path, n: usize) -> Result<Vec<i64>> {
    let labels = npy::read_i64_vector(path)?;
    if labels.len() != n {
        return Err(Error::Usage(format!(
            "labels {} has {} values but the data has n = {n} samples",
            path.display(),
            labels.len()
        )));
    }
    Ok(labels)
}

/// Scores from saved logits, all in one pass over them: one `T × n × C` file, or one `n × C` file
/// per epoch, in epoch order (as a training loop saves them); `features` are the penultimate
/// features for GraNd.
pub(crate) fn scores_from_logits(
    kinds: &[ScoreKind],
    logits: &[PathBuf],
    labels: &[i64],
    features: Option<&Path>,
    options: &ScoreOptions,
) -> Result<Vec<Vec<f32>>> {
    use crate::npy_map::MappedMatrix;
    // Little-endian float32 in C order (what numpy saves) is scored straight from the memory map:
    // the pages are file-backed, so logits of any size (10^6 samples × 1,000 classes × 20 epochs
    // is 80 GB) stream through the page cache instead of being read into memory. Anything else
    // (float64, Fortran order, big-endian) is converted in memory once, file by file.
    let names = || {
        logits
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let stacked: Option<MappedMatrix>;
    let stacked_read: ndarray::Array3<f32>;
    let epochs: Vec<MappedMatrix>;
    let epoch_views: Vec<ndarray::CowArray<f32, ndarray::Ix2>>;
    let z: Logits = match logits {
        [] => return Err(Error::Usage("--logits needs at least one file".into())),
        [one] if npy::read_header(one)?.shape.len() == 3 => {
            stacked = MappedMatrix::open_rows(one).ok();
            let in_place = stacked.as_ref().and_then(|m| match *m.shape() {
                [t, n, c] => m.view()?.into_shape_with_order((t, n, c)).ok(),
                _ => None,
            });
            match in_place {
                Some(view) => view.into(),
                None => {
                    stacked_read = npy::read_f32_array3(one)?;
                    stacked_read.view().into()
                }
            }
        }
        files => {
            epochs = files
                .iter()
                .map(|p| MappedMatrix::open(p))
                .collect::<std::result::Result<_, _>>()?;
            epoch_views = epochs
                .iter()
                .map(MappedMatrix::whole)
                .collect::<std::result::Result<_, _>>()?;
            Logits::epochs(epoch_views.iter().map(|v| v.view()).collect()).map_err(|e| {
                Error::Usage(format!(
                    "logits {}: one n × C file per epoch, all of one shape, or one T × n × C \
                     file ({e})",
                    names()
                ))
            })?
        }
    };
    if z.dim().1 != labels.len() {
        return Err(Error::Usage(format!(
            "logits {} hold n = {} samples (shape T×n×C = {:?}) but the labels have {}",
            names(),
            z.dim().1,
            z.dim(),
            labels.len()
        )));
    }
    let h = features.map(npy::read_f32_matrix).transpose()?;
    Ok(compute_scores(
        kinds,
        z,
        labels,
        h.as_ref().map(|h| h.view()),
        options,
    )?)
}
