//! Output files, all or nothing: every output path is checked before any work, each output is
//! staged in a temporary file beside its target, and the staged files are put in place together
//! at the end. A signal (SIGINT, SIGTERM, SIGHUP) removes the temporary files before the process
//! dies, so nothing but complete outputs is ever left behind.

use crate::npy::error::NpyError;
use crate::npy::overwrite::Overwrite;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use tempfile::NamedTempFile;

/// The longest file name the usual file systems (ext4, XFS, btrfs, APFS, NTFS) accept, in bytes.
/// A longer name is refused before any work rather than by the final rename after it.
pub const NAME_MAX: usize = 255;

/// Prefix of the temporary files; short and fixed, so a temporary name fits the file-name limit
/// whatever the target's name is (`.infoprune-` plus six random characters).
const TEMP_PREFIX: &str = ".infoprune-";

/// The temporary files that exist now: the signal handler removes them. The lock is also held
/// while staged files are put in place, so that a signal never interrupts a commit halfway.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the lock was held leaves the list as it was; it is still the best record.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn forget(path: &Path) {
    let mut live = live();
    if let Some(i) = live.iter().position(|p| p == path) {
        live.swap_remove(i);
    }
}

/// Installs a handler for SIGINT, SIGTERM and SIGHUP that removes every temporary output file,
/// then lets the signal end the process as it would have without the handler. Call it once, from
/// `main`, before any output is staged.
///
/// # Errors
/// The operating system's error if the handler cannot be installed.
#[cfg(unix)]
pub fn clean_up_on_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signal-cleanup".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held until the process ends: no temporary file can appear after the clean-up.
                let live = live();
                for path in live.iter() {
                    let _ = fs::remove_file(path);
                }
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// No signals to clean up after on this platform; temporary files are still removed on errors.
#[cfg(not(unix))]
pub fn clean_up_on_signals() -> io::Result<()> {
    Ok(())
}

/// The folder a file path is in (`.` for a bare file name).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

pub(crate) fn ends_in_separator(path: &Path) -> bool {
    let text = path.as_os_str().as_encoded_bytes();
    text.last()
        .is_some_and(|&b| b == b'/' || std::path::is_separator(b as char))
}

/// A registered temporary file: removed on drop, and by the signal handler.
pub(crate) struct Temp {
    file: Option<NamedTempFile>,
    path: PathBuf,
}

impl Temp {
    pub(crate) fn new(folder: &Path) -> io::Result<Self> {
        // Created and registered under the lock, so a signal cannot fall between the two.
        let mut live = live();
        let file = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .rand_bytes(6)
            .tempfile_in(folder)?;
        let path = file.path().to_path_buf();
        live.push(path.clone());
        Ok(Self {
            file: Some(file),
            path,
        })
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        // NamedTempFile's own drop removes the file; only then is it forgotten. A file already
        // taken was put in place (or removed) by `commit`, which forgot it under its own lock.
        if let Some(file) = self.file.take() {
            drop(file);
            forget(&self.path);
        }
    }
}

/// An output written in full to a temporary file beside its target, waiting for [`commit`].
pub struct Staged {
    target: PathBuf,
    temp: Temp,
}

impl Staged {
    /// The output path this will be put at.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

fn write_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> NpyError + 'a {
    move |source| NpyError::WriteIo {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// Writes `bytes` to a new temporary file in `target`'s folder and flushes it to disk; nothing is
/// at `target` until [`commit`].
///
/// # Errors
/// [`NpyError::BadPath`] if `target` names no file, [`NpyError::WriteIo`] (naming `target`) if
/// the file cannot be created or written; the temporary file is then gone.
pub fn stage(target: &Path, bytes: &[u8]) -> std::result::Result<Staged, NpyError> {
    if target.file_name().is_none() || ends_in_separator(target) {
        return Err(NpyError::BadPath {
            path: target.to_path_buf(),
            reason: "expected a path ending in a file name",
        });
    }
    let mut temp = Temp::new(folder_of(target))
        .map_err(write_err(target, "create a temporary file beside it"))?;
    let file = temp
        .file
        .as_mut()
        .expect("a new temporary file is open")
        .as_file_mut();
    file.write_all(bytes)
        .map_err(write_err(target, "write its temporary file"))?;
    file.sync_all()
        .map_err(write_err(target, "flush its temporary file to disk"))?;
    Ok(Staged {
        target: target.to_path_buf(),
        temp,
    })
}

/// Puts every staged file at its target, in order. With [`Overwrite::Refuse`] an existing target
/// (one that appeared since the check) is an error and is left untouched.
///
/// If one fails, the outputs this call had already created are removed again and every
/// temporary file is deleted, so nothing new is left behind (an existing file that
/// [`Overwrite::Allow`] already replaced stays replaced: its old contents are gone).
///
/// # Errors
/// [`NpyError::AlreadyExists`] or [`NpyError::WriteIo`] naming the target.
pub fn commit(staged: Vec<Staged>, overwrite: Overwrite) -> std::result::Result<(), NpyError> {
    // Held throughout: a signal waits until every output is in place (or rolled back).
    let mut live = live();
    let mut created: Vec<PathBuf> = Vec::new();
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut failure = None;
    let mut pending = staged.into_iter();
    for mut staged in pending.by_ref() {
        let existed = fs::symlink_metadata(&staged.target).is_ok();
        let file = staged.temp.file.take().expect("a staged file is open");
        let persisted = match overwrite {
            Overwrite::Allow => file.persist(&staged.target),
            Overwrite::Refuse => file.persist_noclobber(&staged.target),
        };
        if let Some(i) = live.iter().position(|p| *p == staged.temp.path) {
            live.swap_remove(i);
        }
        match persisted {
            Ok(_) => {
                if !existed {
                    created.push(staged.target.clone());
                }
                let folder = folder_of(&staged.target).to_path_buf();
                if !folders.contains(&folder) {
                    folders.push(folder);
                }
            }
            Err(e) => {
                // The temporary file is removed by `e`'s drop.
                failure = Some(if e.error.kind() == io::ErrorKind::AlreadyExists {
                    NpyError::AlreadyExists {
                        path: staged.target.clone(),
                    }
                } else {
                    NpyError::WriteIo {
                        path: staged.target.clone(),
                        action: "move its temporary file into place",
                        source: e.error,
                    }
                });
                break;
            }
        }
    }
    drop(live);
    match failure {
        None => {
            folders.iter().for_each(|f| sync_folder(f));
            Ok(())
        }
        Some(error) => {
            for path in &created {
                let _ = fs::remove_file(path);
            }
            // The staged files not reached are removed by their drops.
            drop(pending);
            Err(error)
        }
    }
}

/// Writes several outputs all or nothing: every one is staged, then all are committed.
///
/// # Errors
/// As [`stage`] and [`commit`]; on any error no new file is left behind.
pub fn write_all(
    outputs: &[(&Path, &[u8])],
    overwrite: Overwrite,
) -> std::result::Result<(), NpyError> {
    if overwrite == Overwrite::Refuse {
        if let Some((path, _)) = outputs
            .iter()
            .find(|(path, _)| fs::symlink_metadata(path).is_ok())
        {
            return Err(NpyError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
    }
    let staged = outputs
        .iter()
        .map(|(path, bytes)| stage(path, bytes))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    commit(staged, overwrite)
}

/// Makes the renames themselves durable. Best effort: some file systems refuse to sync a folder,
/// and the data is already safely written by then.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(folder) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}
