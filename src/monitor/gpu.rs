//! NVIDIA GPUs through NVML (nvml-wrapper loads `libnvidia-ml` at run time, so nothing is
//! needed to build): the devices, driver and CUDA version for the environment, readings of
//! memory, utilisation, temperature and power, and their summary over a point. No GPU or
//! no NVML is recorded as unavailable with the reason, never an error.

use std::collections::BTreeMap;

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;
use serde::{Deserialize, Serialize};

use crate::result::{GpuDevice, GpuEnvironment, GpuStats};

const MIB: f64 = 1024.0 * 1024.0;

/// One reading of one GPU; a figure the device does not report is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuReading {
    pub index: u32,
    pub name: String,
    pub memory_used_mib: f64,
    pub memory_total_mib: f64,
    pub utilization_pct: Option<f64>,
    pub temperature_c: Option<f64>,
    pub power_w: Option<f64>,
}

/// Why there are no GPU readings.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("NVML is not available: {0}")]
    Unavailable(NvmlError),
    #[error("NVML found no GPU")]
    NoDevice,
    #[error("NVML cannot count the GPUs: {0}")]
    Count(NvmlError),
}

/// An open NVML session.
pub struct Gpus {
    nvml: Nvml,
}

impl Gpus {
    /// Opens NVML; the error says why there are no readings.
    pub fn open() -> Result<Self, GpuError> {
        let nvml = Nvml::init().map_err(GpuError::Unavailable)?;
        match nvml.device_count() {
            Ok(0) => Err(GpuError::NoDevice),
            Ok(_) => Ok(Self { nvml }),
            Err(e) => Err(GpuError::Count(e)),
        }
    }

    /// Driver, CUDA version and devices.
    pub fn environment(&self) -> GpuEnvironment {
        let cuda = self.nvml.sys_cuda_driver_version().ok().map(|v| {
            format!(
                "{}.{}",
                nvml_wrapper::cuda_driver_version_major(v),
                nvml_wrapper::cuda_driver_version_minor(v)
            )
        });
        GpuEnvironment {
            unavailable: None,
            driver: self.nvml.sys_driver_version().ok(),
            cuda,
            devices: self
                .read()
                .into_iter()
                .map(|r| GpuDevice {
                    index: r.index,
                    name: r.name,
                    memory_total_mib: r.memory_total_mib,
                })
                .collect(),
        }
    }

    /// A reading of every GPU (devices that cannot be read are left out).
    pub fn read(&self) -> Vec<GpuReading> {
        let count = self.nvml.device_count().unwrap_or(0);
        (0..count)
            .filter_map(|index| {
                let device = self.nvml.device_by_index(index).ok()?;
                let memory = device.memory_info().ok()?;
                Some(GpuReading {
                    index,
                    name: device.name().unwrap_or_default(),
                    memory_used_mib: memory.used as f64 / MIB,
                    memory_total_mib: memory.total as f64 / MIB,
                    utilization_pct: device.utilization_rates().ok().map(|u| f64::from(u.gpu)),
                    temperature_c: device
                        .temperature(TemperatureSensor::Gpu)
                        .ok()
                        .map(f64::from),
                    power_w: device.power_usage().ok().map(|mw| f64::from(mw) / 1000.0),
                })
            })
            .collect()
    }
}

/// The GPU environment of an NVML session, or why there is none.
pub fn gpu_environment(gpus: &Result<Gpus, GpuError>) -> GpuEnvironment {
    match gpus {
        Ok(g) => g.environment(),
        Err(reason) => GpuEnvironment {
            unavailable: Some(reason.to_string()),
            ..GpuEnvironment::default()
        },
    }
}

/// The readings of one window, folded per GPU as they come, so a soak of hours holds a
/// few figures per GPU.
#[derive(Debug, Default)]
pub struct GpuRecorder {
    gpus: BTreeMap<u32, Folded>,
}

/// One GPU's readings so far.
#[derive(Debug, Default)]
struct Folded {
    name: String,
    samples: u32,
    memory_total_mib: f64,
    used_peak: f64,
    used_sum: f64,
    utilization: Mean,
    temperature_max: Option<f64>,
    power: Mean,
}

/// A running mean of the readings that have the figure.
#[derive(Debug, Default)]
struct Mean {
    sum: f64,
    n: u32,
}

impl Mean {
    fn add(&mut self, value: Option<f64>) {
        if let Some(v) = value {
            self.sum += v;
            self.n += 1;
        }
    }

    fn get(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / f64::from(self.n))
    }
}

impl GpuRecorder {
    pub fn add(&mut self, readings: Vec<GpuReading>) {
        for r in readings {
            let gpu = self.gpus.entry(r.index).or_default();
            if gpu.samples == 0 {
                gpu.name = r.name;
                gpu.memory_total_mib = r.memory_total_mib;
            }
            gpu.samples += 1;
            gpu.used_peak = gpu.used_peak.max(r.memory_used_mib);
            gpu.used_sum += r.memory_used_mib;
            gpu.utilization.add(r.utilization_pct);
            gpu.power.add(r.power_w);
            gpu.temperature_max = match (gpu.temperature_max, r.temperature_c) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }

    /// Per GPU: peak and mean memory used, mean utilisation, highest temperature, mean power.
    pub fn summary(&self) -> Vec<GpuStats> {
        self.gpus
            .iter()
            .map(|(&index, g)| GpuStats {
                index,
                name: g.name.clone(),
                samples: g.samples,
                memory_used_peak_mib: g.used_peak,
                memory_used_mean_mib: g.used_sum / f64::from(g.samples.max(1)),
                memory_total_mib: g.memory_total_mib,
                utilization_mean_pct: g.utilization.get(),
                temperature_max_c: g.temperature_max,
                power_mean_w: g.power.get(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(index: u32, used: f64, util: Option<f64>, temp: f64, power: f64) -> GpuReading {
        GpuReading {
            index,
            name: "NVIDIA H100 80GB HBM3".into(),
            memory_used_mib: used,
            memory_total_mib: 81559.0,
            utilization_pct: util,
            temperature_c: Some(temp),
            power_w: Some(power),
        }
    }

    #[test]
    fn a_window_is_summarised_per_gpu() {
        let mut recorder = GpuRecorder::default();
        recorder.add(vec![
            reading(0, 1000.0, Some(10.0), 40.0, 100.0),
            reading(1, 500.0, None, 35.0, 80.0),
        ]);
        recorder.add(vec![
            reading(0, 3000.0, Some(90.0), 55.0, 300.0),
            reading(1, 700.0, None, 36.0, 90.0),
        ]);
        let stats = recorder.summary();
        assert_eq!(stats.len(), 2);
        assert_eq!(stats[0].memory_used_peak_mib, 3000.0);
        assert_eq!(stats[0].memory_used_mean_mib, 2000.0);
        assert_eq!(stats[0].utilization_mean_pct, Some(50.0));
        assert_eq!(stats[0].temperature_max_c, Some(55.0));
        assert_eq!(stats[0].power_mean_w, Some(200.0));
        assert_eq!(
            stats[1].utilization_mean_pct, None,
            "not reported, not zero"
        );
    }

    #[test]
    fn no_nvml_is_unavailable_not_an_error() {
        let gpus = Gpus::open();
        if gpus.is_err() {
            let env = gpu_environment(&gpus);
            assert!(env.unavailable.is_some_and(|r| r.starts_with("NVML")));
            assert!(env.devices.is_empty());
        }
    }
}
