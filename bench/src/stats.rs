//! Latency percentiles and process memory readings.

use std::time::Duration;

/// p50/p95/p99/max of one endpoint's sequential samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    pub samples: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl LatencySummary {
    /// None for an empty sample set.
    pub fn from_samples(samples: &[Duration]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        Some(Self {
            samples: sorted.len(),
            p50: percentile(&sorted, 50.0)?,
            p95: percentile(&sorted, 95.0)?,
            p99: percentile(&sorted, 99.0)?,
            max: *sorted.last()?,
        })
    }
}

/// Nearest-rank percentile of an ascending slice (`p` in 0..=100).
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A `kB` field such as `VmRSS` or `VmHWM` from `/proc/<pid>/status` text.
pub fn status_field_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Reads one `kB` field of a live process; None when it has gone.
pub fn read_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kb(&status, field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|v| Duration::from_millis(*v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = LatencySummary::from_samples(&samples).unwrap();
        assert_eq!(s.samples, 100);
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p95, Duration::from_millis(95));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.max, Duration::from_millis(100));
    }

    #[test]
    fn percentiles_of_unsorted_and_tiny_sets() {
        let s = LatencySummary::from_samples(&ms(&[30, 10, 20])).unwrap();
        assert_eq!(
            (s.p50, s.p95, s.max),
            (
                Duration::from_millis(20),
                Duration::from_millis(30),
                Duration::from_millis(30)
            )
        );
        let one = LatencySummary::from_samples(&ms(&[7])).unwrap();
        assert_eq!(one.p50, Duration::from_millis(7));
        assert_eq!(
            percentile(&ms(&[1, 2]), 0.0),
            Some(Duration::from_millis(1))
        );
        assert!(LatencySummary::from_samples(&[]).is_none());
    }

    #[test]
    fn status_fields_are_parsed_in_kb() {
        let status = "Name:\tgreenroom\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   98765 kB\nThreads:\t4\n";
        assert_eq!(status_field_kb(status, "VmHWM"), Some(123_456));
        assert_eq!(status_field_kb(status, "VmRSS"), Some(98_765));
        assert_eq!(status_field_kb(status, "Threads"), None);
        assert_eq!(status_field_kb(status, "VmSwap"), None);
    }

    #[test]
    fn own_process_has_a_resident_set() {
        let rss = read_status_kb(std::process::id(), "VmRSS").unwrap();
        assert!(rss > 0);
        assert!(read_status_kb(u32::MAX, "VmRSS").is_none());
    }
}
