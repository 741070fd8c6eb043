//! Readings of the machine: the host and its GPUs for a result's environment, what is
//! sampled beside the load during each point (GPU readings, the server's metrics), and
//! what the harness itself costs (CPU, memory). The types recorded are the result's.

mod cpu;
mod environment;
mod gauges;
mod gpu;
mod revision;
mod window;

pub use cpu::peak_rss_mib;
pub use gpu::{gpu_environment, GpuError, GpuReading, Gpus};
pub use window::WindowMonitor;
