//! `llm-loadtest gpu [--watch SECONDS]`: the GPU table (NVML), once or refreshed until
//! interrupted or until nobody reads it any more.

use std::time::Duration;

use llm_loadtest::monitor::Gpus;
use llm_loadtest::report::terminal::gpu_table;

use super::{say, sayln, Outcome};

pub fn execute(watch: Option<f64>) -> anyhow::Result<Outcome> {
    let gpus = match Gpus::open() {
        Ok(gpus) => gpus,
        Err(reason) => {
            sayln!("no GPU readings: {reason}");
            return Ok(Outcome::Success);
        }
    };
    let Some(seconds) = watch else {
        say!("{}", gpu_table(&gpus.read()));
        return Ok(Outcome::Success);
    };
    let interval = Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| anyhow::anyhow!("--watch: expected a positive number of seconds"))?;
    // Clear the screen, then the table: the seed's `watch -n 0.5 nvidia-smi`.
    while say!("\x1b[2J\x1b[H{}", gpu_table(&gpus.read())) {
        std::thread::sleep(interval);
    }
    Ok(Outcome::Success)
}
