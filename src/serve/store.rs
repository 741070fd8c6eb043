//! The results directory as the dashboard's database: every result JSON under it (to a
//! few folders deep, as `compare` keeps its history copies) is a run, named by its path
//! without `.json` (`sim-spike`, `history/sim-spike/2026-11-30T101010Z`). A name is
//! checked before it touches the file system: plain folder and file names only, no `..`,
//! no hidden files, no symbolic links, nothing outside the directory. The runs' summary
//! lines are cached by file size and modification time, so that a history polled by many
//! pages parses each file once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use super::summary::RunSummary;
use crate::compare::baseline::{read_result, BaselineError};
use crate::result::RunResult;

/// Folders below the results directory that are searched for results.
const MAX_DEPTH: usize = 4;
/// The longest run name accepted.
const MAX_ID_LEN: usize = 200;

/// A run's name, checked to stay inside the results directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunId(String);

/// A run name that could name something outside the results directory, or nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run id `{shown}`: {why}")]
pub struct BadRunId {
    shown: String,
    why: &'static str,
}

impl RunId {
    /// `text` as a run name: folder and file names of letters, digits, `_`, `-`, `.` and
    /// `:`, joined by `/`, none empty, none starting with a dot, at most a few deep.
    pub fn parse(text: &str) -> Result<Self, BadRunId> {
        let bad = |why| BadRunId {
            shown: text.chars().take(80).collect(),
            why,
        };
        if text.is_empty() || text.len() > MAX_ID_LEN {
            return Err(bad("expected 1 to 200 characters"));
        }
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() > MAX_DEPTH + 1 {
            return Err(bad("too many folders"));
        }
        for part in parts {
            if part.is_empty() || part.starts_with('.') {
                return Err(bad(
                    "a part is empty or starts with a dot (no `..`, no hidden files)",
                ));
            }
            let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.:".contains(c);
            if !part.chars().all(allowed) {
                return Err(bad(
                    "expected letters, digits, `_`, `-`, `.`, `:` and `/` only",
                ));
            }
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What reading or deleting a stored run can meet.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no run `{0}` in the results directory")]
    NotFound(RunId),
    #[error("run `{0}` is not a plain file inside the results directory")]
    Outside(RunId),
    #[error(transparent)]
    Unreadable(#[from] BaselineError),
    #[error("cannot delete run `{id}`: {reason}")]
    Delete { id: RunId, reason: std::io::Error },
}

/// A summary line with what it was made from.
struct Cached {
    modified: SystemTime,
    len: u64,
    /// `None`: the file is not a run's result.
    summary: Option<RunSummary>,
}

/// The results directory.
pub struct Store {
    dir: PathBuf,
    cache: Mutex<HashMap<PathBuf, Cached>>,
}

impl Store {
    /// The results directory `dir`, made if missing.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.canonicalize()?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the run `id` is (or will be) stored.
    pub fn path_of(&self, id: &RunId) -> PathBuf {
        self.dir.join(format!("{}.json", id.0))
    }

    /// The stored file of `id`: a plain file, no link, inside the directory.
    fn existing(&self, id: &RunId) -> Result<PathBuf, StoreError> {
        let path = self.path_of(id);
        let meta =
            std::fs::symlink_metadata(&path).map_err(|_| StoreError::NotFound(id.clone()))?;
        let inside = path
            .canonicalize()
            .is_ok_and(|real| real.starts_with(&self.dir));
        if !meta.file_type().is_file() || !inside {
            return Err(StoreError::Outside(id.clone()));
        }
        Ok(path)
    }

    /// The result stored as `id`.
    pub fn read(&self, id: &RunId) -> Result<RunResult, StoreError> {
        Ok(read_result(&self.existing(id)?)?)
    }

    /// Whether a result is stored as `id`.
    pub fn contains(&self, id: &RunId) -> bool {
        self.existing(id).is_ok()
    }

    /// Deletes the result stored as `id` (only a run's result: other JSON files stay).
    pub fn delete(&self, id: &RunId) -> Result<(), StoreError> {
        let path = self.existing(id)?;
        read_result(&path)?;
        std::fs::remove_file(&path).map_err(|reason| StoreError::Delete {
            id: id.clone(),
            reason,
        })?;
        self.cache().remove(&path);
        Ok(())
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Cached>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stored runs, newest first; files that are not results are left out.
    pub fn list(&self) -> Vec<RunSummary> {
        let mut files = Vec::new();
        walk(&self.dir, 0, &mut files);
        let present: HashSet<&PathBuf> = files.iter().map(|(path, _)| path).collect();
        let mut cache = self.cache();
        cache.retain(|path, _| present.contains(path));
        drop(present);
        let mut runs: Vec<RunSummary> = files
            .into_iter()
            .filter_map(|(path, meta)| {
                let id = self.id_of(&path)?;
                let (modified, len) = (meta.modified().ok()?, meta.len());
                let fresh = cache
                    .get(&path)
                    .is_some_and(|c| c.modified == modified && c.len == len);
                if !fresh {
                    let summary = read_result(&path)
                        .ok()
                        .map(|result| RunSummary::of_result(id.as_str(), &result));
                    let entry = Cached {
                        modified,
                        len,
                        summary,
                    };
                    cache.insert(path.clone(), entry);
                }
                cache[&path].summary.clone()
            })
            .collect();
        runs.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then(a.run_id.cmp(&b.run_id))
        });
        runs
    }

    /// The run name of a file found under the directory.
    fn id_of(&self, path: &Path) -> Option<RunId> {
        let relative = path.strip_prefix(&self.dir).ok()?.with_extension("");
        RunId::parse(relative.to_str()?).ok()
    }
}

/// The `*.json` plain files under `dir` (no links followed, no hidden names), with their
/// metadata.
fn walk(dir: &Path, depth: usize, found: &mut Vec<(PathBuf, std::fs::Metadata)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let (path, Ok(meta)) = (entry.path(), entry.metadata()) else {
            continue;
        };
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden || meta.file_type().is_symlink() {
            continue;
        }
        if meta.is_dir() && depth < MAX_DEPTH {
            walk(&path, depth + 1, found);
        } else if meta.is_file() && path.extension().is_some_and(|e| e == "json") {
            found.push((path, meta));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_stay_inside_the_directory() {
        for good in [
            "sim-spike",
            "history/sim-spike/2026-11-30T101010Z",
            "a.b_c:d",
        ] {
            assert!(RunId::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../etc/passwd",
            "a/../../b",
            "/etc/passwd",
            ".hidden",
            "a//b",
            "a\\b",
            "a b",
            "a/b/c/d/e/f",
            "%2e%2e",
        ] {
            assert!(RunId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_out_of_the_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link.json")).unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = RunId::parse("link").unwrap();
        assert!(matches!(store.read(&id), Err(StoreError::Outside(_))));
        assert!(matches!(store.delete(&id), Err(StoreError::Outside(_))));
        assert!(outside.path().exists());
        assert!(store.list().is_empty());
    }
}
