//! The revision a run is made from: in a GitHub Actions job its `GITHUB_SHA` and branch
//! (`GITHUB_HEAD_REF` for a pull request, else `GITHUB_REF_NAME`), else the git checkout
//! of the working directory (`git rev-parse`, `git status`), else none.

use std::process::Command;

use crate::result::Revision;

impl Revision {
    /// The revision of this run, when there is one to tell.
    pub fn current() -> Option<Self> {
        Self::from_ci(|name| std::env::var(name).ok()).or_else(Self::from_git)
    }

    /// The revision a CI job names in its environment (`var` reads a variable).
    pub fn from_ci(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let set = |name| var(name).filter(|v| !v.is_empty());
        Some(Self {
            commit: set("GITHUB_SHA")?,
            branch: set("GITHUB_HEAD_REF").or_else(|| set("GITHUB_REF_NAME")),
            dirty: None,
        })
    }

    /// The revision of the git checkout around the working directory.
    fn from_git() -> Option<Self> {
        let git = |args: &[&str]| {
            let out = Command::new("git").args(args).output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        };
        let commit = git(&["rev-parse", "HEAD"])?;
        let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]).filter(|b| b != "HEAD");
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
        Some(Self {
            commit,
            branch,
            dirty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_request_job_names_its_head_branch() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let pr = Revision::from_ci(env(&[
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_HEAD_REF", "faster-decode"),
            ("GITHUB_REF_NAME", "42/merge"),
        ]))
        .unwrap();
        assert_eq!(pr.commit, "abc123");
        assert_eq!(pr.branch.as_deref(), Some("faster-decode"));
        let push = Revision::from_ci(env(&[
            ("GITHUB_SHA", "def456"),
            ("GITHUB_HEAD_REF", ""),
            ("GITHUB_REF_NAME", "main"),
        ]))
        .unwrap();
        assert_eq!(push.branch.as_deref(), Some("main"));
        assert_eq!(Revision::from_ci(env(&[("GITHUB_REF_NAME", "main")])), None);
    }
}
