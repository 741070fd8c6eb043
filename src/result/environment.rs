//! Where a result was measured: the host, its GPUs (or why there are none), the server,
//! and the revision of the code under test.

use serde::{Deserialize, Serialize};

/// Where a result was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub host: Host,
    /// NVIDIA GPUs (NVML), or why there are none.
    #[serde(default)]
    pub gpus: GpuEnvironment,
    pub server: ServerInfo,
    /// The commit the run was made from, when it ran in a git checkout or a CI job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
}

/// A commit of the repository the run was made in: what a history of results is ordered
/// by ("since which commit?").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// The full commit hash.
    pub commit: String,
    /// The branch (or pull request's head branch), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Whether the checkout had uncommitted changes (`git status`); unknown in CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
}

/// `1a2b3c4d5e6f (main, uncommitted changes)`: the commit cut to 12 characters.
impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.commit.get(..12).unwrap_or(&self.commit))?;
        let mut notes: Vec<&str> = self.branch.iter().map(String::as_str).collect();
        if self.dirty == Some(true) {
            notes.push("uncommitted changes");
        }
        if !notes.is_empty() {
            write!(f, " ({})", notes.join(", "))?;
        }
        Ok(())
    }
}

/// The machine the harness ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub cpu_model: String,
    pub cpu_cores: usize,
    pub memory_gib: f64,
    pub os: String,
    pub kernel: String,
}

/// `AMD EPYC, 2 cores, 23.5 GiB memory, Debian GNU/Linux 12, kernel 6.18.44`
impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {} cores, {} GiB memory, {}, kernel {}",
            self.cpu_model, self.cpu_cores, self.memory_gib, self.os, self.kernel
        )
    }
}

/// The GPUs of the machine, as recorded in a result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuEnvironment {
    /// Why there are no GPU readings (no NVML library, no device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// The CUDA version the driver supports (`12.4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<GpuDevice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuDevice {
    pub index: u32,
    pub name: String,
    pub memory_total_mib: f64,
}

/// The server as recorded in a result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub base_url: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The command line the harness launched it with (server sweeps; the first
    /// configuration's, each one's in the result's `servers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}
