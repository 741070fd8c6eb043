//! Gauges averaged in fixed windows from an origin, kept by column: each gauge's name
//! once, and per window a row of (sum, samples) per gauge, so that a long point's windows
//! cost a few bytes per gauge each instead of a copy of every name. Past
//! [`MAX_GAUGE_WINDOWS`] neighbouring windows merge and the width doubles.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Most gauge windows kept.
const MAX_GAUGE_WINDOWS: usize = 1024;

/// Sums and sample counts of gauges, window by window.
#[derive(Debug)]
pub struct GaugeWindows {
    origin: Instant,
    width: Duration,
    /// Each gauge's name, at its column.
    names: Vec<String>,
    /// Per window, per column: the sum of the samples and their count.
    sums: Vec<Vec<(f64, u32)>>,
}

impl GaugeWindows {
    /// Windows of `width` from now.
    pub fn new(width: Duration) -> Self {
        Self {
            origin: Instant::now(),
            width: width.max(Duration::from_millis(1)),
            names: Vec::new(),
            sums: Vec::new(),
        }
    }

    /// The column of gauge `name`, added when new.
    fn column(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(column) => column,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        }
    }

    /// Adds gauges read now.
    pub fn add(&mut self, gauges: impl IntoIterator<Item = (String, f64)>) {
        let offset = self.origin.elapsed();
        let mut index = (offset.as_nanos() / self.width.as_nanos()) as usize;
        while index >= MAX_GAUGE_WINDOWS {
            self.halve();
            index /= 2;
        }
        if self.sums.len() <= index {
            self.sums.resize_with(index + 1, Vec::new);
        }
        for (name, value) in gauges {
            let column = self.column(&name);
            let row = &mut self.sums[index];
            if row.len() <= column {
                row.resize(column + 1, (0.0, 0));
            }
            row[column].0 += value;
            row[column].1 += 1;
        }
    }

    /// Merges neighbouring windows (sums and counts add), doubling the width.
    fn halve(&mut self) {
        self.width *= 2;
        let old = std::mem::take(&mut self.sums);
        for pair in old.chunks(2) {
            let mut merged = pair[0].clone();
            for (column, &(sum, n)) in pair.iter().skip(1).flatten().enumerate() {
                if merged.len() <= column {
                    merged.resize(column + 1, (0.0, 0));
                }
                merged[column].0 += sum;
                merged[column].1 += n;
            }
            self.sums.push(merged);
        }
    }

    /// The means of window `index`'s gauges, by name.
    fn means_of(&self, index: usize) -> impl Iterator<Item = (String, f64)> + '_ {
        let row = self.sums.get(index).map(Vec::as_slice).unwrap_or_default();
        row.iter()
            .zip(&self.names)
            .filter(|((_, n), _)| *n > 0)
            .map(|(&(sum, n), name)| (name.clone(), sum / f64::from(n)))
    }

    /// The means of two sets of windows from the same origin, merged at the wider width.
    pub fn means(mut windows: [Self; 2]) -> (Duration, Vec<BTreeMap<String, f64>>) {
        let width = windows.iter().map(|w| w.width).max().unwrap_or_default();
        for w in &mut windows {
            while w.width < width {
                w.halve();
            }
        }
        let len = windows.iter().map(|w| w.sums.len()).max().unwrap_or(0);
        let means = (0..len)
            .map(|i| windows.iter().flat_map(|w| w.means_of(i)).collect())
            .collect();
        (width, means)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_are_averaged_per_window_and_merged() {
        let mut server = GaugeWindows::new(Duration::from_secs(3600));
        let mut gpu = GaugeWindows::new(Duration::from_secs(3600));
        server.add([("vllm:num_requests_waiting".to_owned(), 2.0)]);
        server.add([("vllm:num_requests_waiting".to_owned(), 4.0)]);
        gpu.add([("gpu0.memory_used_mib".to_owned(), 1000.0)]);
        let (width, means) = GaugeWindows::means([server, gpu]);
        assert_eq!((width, means.len()), (Duration::from_secs(3600), 1));
        assert_eq!(means[0]["vllm:num_requests_waiting"], 3.0);
        assert_eq!(means[0]["gpu0.memory_used_mib"], 1000.0);
    }

    #[test]
    fn merging_neighbours_keeps_sums_and_counts() {
        let mut w = GaugeWindows::new(Duration::from_secs(1));
        w.sums = vec![vec![(2.0, 1)], vec![(4.0, 1), (10.0, 2)], vec![(6.0, 3)]];
        w.names = vec!["a".into(), "b".into()];
        w.halve();
        assert_eq!(w.width, Duration::from_secs(2));
        assert_eq!(w.sums, [vec![(6.0, 2), (10.0, 2)], vec![(6.0, 3)]]);
        let means: BTreeMap<String, f64> = w.means_of(0).collect();
        assert_eq!((means["a"], means["b"]), (3.0, 5.0));
    }
}
