//! Host fingerprint (CPU, cores, memory, OS, kernel) read with sysinfo, and the
//! environment block of a result (host, GPUs, server).

use serde::{Deserialize, Serialize};
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

use super::gpu::GpuEnvironment;
use crate::server::ServerInfo;

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

impl Host {
    /// Reads the current host.
    pub fn current() -> Self {
        let sys = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing())
                .with_memory(MemoryRefreshKind::nothing().with_ram()),
        );
        Self {
            cpu_model: sys
                .cpus()
                .first()
                .map(|c| c.brand().trim().to_owned())
                .unwrap_or_default(),
            cpu_cores: sys.cpus().len(),
            memory_gib: (sys.total_memory() as f64 / (1u64 << 30) as f64 * 10.0).round() / 10.0,
            os: System::long_os_version().unwrap_or_default(),
            kernel: System::kernel_version().unwrap_or_default(),
        }
    }
}

/// Where a result was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub host: Host,
    /// NVIDIA GPUs (NVML), or why there are none.
    #[serde(default)]
    pub gpus: GpuEnvironment,
    pub server: ServerInfo,
}
