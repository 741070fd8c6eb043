//! The environment a result was measured in (host, GPUs, server), what is sampled beside
//! the load during each point (GPU readings, the server's metrics), and what the harness
//! itself costs (CPU, memory).

mod cpu;
mod environment;
mod gpu;
mod window;

pub use cpu::{peak_rss_mib, CpuTime};
pub use environment::{Environment, Host};
pub use gpu::{gpu_environment, GpuEnvironment, GpuReading, GpuStats, Gpus};
pub use window::WindowMonitor;
