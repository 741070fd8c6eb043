//! CPU time and peak memory of the harness process (getrusage), split into user time (the
//! harness's own work) and system time (the kernel delivering packets and waking it).
//! [`CpuTime`] is the result's type; reading it is done here.

use crate::result::CpuTime;

fn seconds(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

fn usage() -> libc::rusage {
    // SAFETY: getrusage writes a complete `rusage` into the zeroed struct we pass; with
    // RUSAGE_SELF and a valid pointer it cannot fail.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

impl CpuTime {
    /// CPU time of this process since it started.
    pub fn now() -> Self {
        let u = usage();
        Self {
            user_s: seconds(u.ru_utime),
            system_s: seconds(u.ru_stime),
        }
    }
}

/// Peak resident memory of this process, in MiB: Linux's `VmHWM`, the high-water mark of
/// this program's own memory. `ru_maxrss` (used where there is no `/proc`) also counts
/// the memory of the process that forked this one, so a harness started by a large
/// process (a test runner, an IDE) would report that process's size.
pub fn peak_rss_mib() -> f64 {
    let from_proc = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        });
    // Both are in KiB.
    from_proc.unwrap_or_else(|| usage().ru_maxrss as f64) / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let before = CpuTime::now();
        // Work the optimizer cannot fold away, until the kernel's accounting (in ticks of
        // a few milliseconds) has seen some of it, or for five seconds at most.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while CpuTime::now() == before && start.elapsed().as_secs() < 5 {
            for i in 0..1_000_000u64 {
                x = std::hint::black_box(x.wrapping_add(i * i));
            }
        }
        let spent = CpuTime::now() - before;
        assert!(spent.user_s + spent.system_s > 0.0 && spent.user_s >= 0.0);
        assert!(peak_rss_mib() > 1.0);
    }
}
