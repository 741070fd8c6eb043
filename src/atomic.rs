//! Atomic file writes, the one place where the harness writes a whole file: a temporary
//! file in the same directory, synced, then renamed over the target, so that a crash or
//! Ctrl-C never leaves half a result, baseline or report. Results, their checkpoints,
//! baselines and every report format go through here. Only regular files are replaced: a
//! target that is a device, a FIFO, a symbolic link or a directory is refused, never
//! turned into a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A file that could not be written, named.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {}: {reason}", path.display())]
    Io {
        path: PathBuf,
        /// The operating system's reason (never the temporary file's name).
        reason: std::io::Error,
    },
    #[error("cannot write {}: it is {kind}, not a regular file; give a file path", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
}

/// Writes `value` as pretty JSON (and a final newline) to `path` atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WriteError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| WriteError::Io {
        path: path.to_owned(),
        reason: std::io::Error::other(e),
    })?;
    bytes.push(b'\n');
    write(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    check_target(path)?;
    replace(path, bytes).map_err(|e| io_error(path, e))
}

/// Fails now if `path` could not be written later: it is not a regular file, or its
/// folder cannot be made or written. Creates the folder; leaves any file at `path` as it is.
pub fn check_writable(path: &Path) -> Result<(), WriteError> {
    temporary_for(path).map(drop)
}

/// A temporary file to be renamed to `path` once complete (`NamedTempFile::persist`):
/// beside it, so that the rename is atomic. Refused when `path` is not a regular file.
pub fn temporary_for(path: &Path) -> Result<tempfile::NamedTempFile, WriteError> {
    check_target(path)?;
    temporary_beside(path).map_err(|e| io_error(path, e))
}

/// A temporary file in `path`'s folder (made if missing), readable by all once renamed.
fn temporary_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    // Readable by all like any file a tool writes (a temporary file is 0600 by default).
    tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)
}

/// Refuses a target that exists and is not a regular file.
fn check_target(path: &Path) -> Result<(), WriteError> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let t = meta.file_type();
    let kind = match () {
        _ if t.is_file() => return Ok(()),
        _ if t.is_symlink() => "a symbolic link",
        _ if t.is_dir() => "a directory",
        _ if t.is_fifo() => "a FIFO",
        _ if t.is_char_device() || t.is_block_device() => "a device",
        _ => "a special file",
    };
    Err(WriteError::NotRegular {
        path: path.to_owned(),
        kind,
    })
}

fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = temporary_beside(path)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The error of writing `path`, by the operating system's reason alone (the errors of the
/// temporary file name the temporary file, which the user never asked for).
pub fn io_error(path: &Path, e: std::io::Error) -> WriteError {
    // tempfile wraps the system's error in one that adds ` at path "<temporary>"`.
    let text = e.to_string();
    let reason = match text.split_once(" at path ") {
        Some((reason, _)) => std::io::Error::new(e.kind(), reason.to_owned()),
        None => e,
    };
    WriteError::Io {
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/r.json");
        write_json(&path, &serde_json::json!({"a": 1})).unwrap();
        write_json(&path, &serde_json::json!({"a": 2})).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"a\": 2"));
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o644, "readable like any written file");
    }

    #[test]
    fn a_failed_write_names_the_file_once_and_not_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let path = blocker.join("r.json");
        let e = write(&path, b"{}").unwrap_err().to_string();
        let reason = e
            .strip_prefix(&format!("cannot write {}: ", path.display()))
            .unwrap_or_else(|| panic!("{e}"));
        assert!(!reason.contains(".tmp"), "{e}");
        assert_eq!(reason.matches("os error").count(), 1, "{e}");
    }

    #[test]
    fn targets_that_are_not_regular_files_are_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "keep").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo only creates the named pipe at a path we own.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        for (path, kind) in [
            (link.as_path(), "a symbolic link"),
            (dir.path(), "a directory"),
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/null"), "a device"),
        ] {
            let e = write(path, b"{}").unwrap_err().to_string();
            assert!(e.contains(kind), "{}: {e}", path.display());
            assert!(check_writable(path).is_err());
        }
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "keep");
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
    }
}
