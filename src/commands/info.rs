//! `llm-loadtest info`: the version, the result schema it writes, this host and its GPUs.

use llm_loadtest::monitor::{gpu_environment, Gpus};
use llm_loadtest::result::{Host, SCHEMA_VERSION};

use super::{say, Outcome};

pub fn execute() -> anyhow::Result<Outcome> {
    say!("{}", info_text());
    Ok(Outcome::Success)
}

/// The version, the host and the GPUs.
fn info_text() -> String {
    let host = Host::current();
    let mut text = format!(
        "{} {} (result schema_version {SCHEMA_VERSION})\nhost: {host}\n",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    );
    let gpus = gpu_environment(&Gpus::open());
    match &gpus.unavailable {
        Some(reason) => text.push_str(&format!("GPUs: none ({reason})\n")),
        None => {
            text.push_str(&format!(
                "GPUs: {} (driver {}, CUDA {})\n",
                gpus.devices.len(),
                gpus.driver.as_deref().unwrap_or("unknown"),
                gpus.cuda.as_deref().unwrap_or("unknown")
            ));
            for d in &gpus.devices {
                text.push_str(&format!(
                    "  {}: {}, {:.0} MiB\n",
                    d.index, d.name, d.memory_total_mib
                ));
            }
        }
    }
    text
}
