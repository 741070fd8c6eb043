//! The seed's device table for the terminal (`nvidia-smi`): one row per GPU.

use super::table;
use crate::monitor::GpuReading;

/// The seed's device table (`nvidia-smi`): one row per GPU.
pub fn gpu_table(readings: &[GpuReading]) -> String {
    let mut table = table(
        &[
            "GPU",
            "name",
            "memory used",
            "memory total",
            "util",
            "temp",
            "power",
        ],
        2..7,
    );
    let or_dash =
        |v: Option<f64>, unit: &str| v.map_or("-".to_owned(), |v| format!("{v:.0} {unit}"));
    for r in readings {
        table.add_row([
            r.index.to_string(),
            r.name.clone(),
            format!("{:.0} MiB", r.memory_used_mib),
            format!("{:.0} MiB", r.memory_total_mib),
            or_dash(r.utilization_pct, "%"),
            or_dash(r.temperature_c, "°C"),
            or_dash(r.power_w, "W"),
        ]);
    }
    format!("{table}\n")
}
