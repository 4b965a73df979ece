//! Latency percentiles and process memory readings.

use std::time::Duration;

/// min/p50/p95/p99/max of one endpoint's sequential samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    pub samples: usize,
    pub min: Duration,
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
            min: *sorted.first()?,
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

/// User plus system CPU seconds from `/proc/<pid>/stat` text (fields 14
/// and 15, counted after the parenthesised command name, which may contain
/// spaces), given the kernel's clock ticks per second.
pub fn stat_cpu_secs(stat: &str, ticks_per_sec: u64) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / ticks_per_sec as f64)
}

/// CPU seconds a live process has used so far (all threads).
pub fn read_cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // USER_HZ is 100 on every Linux architecture this runs on.
    stat_cpu_secs(&stat, 100)
}

/// `write_bytes` of `/proc/<pid>/io`: what the process caused to be written
/// to storage (WAL, database file, logs).
pub fn io_write_bytes(io: &str) -> Option<u64> {
    io.lines()
        .find_map(|line| line.strip_prefix("write_bytes:")?.trim().parse().ok())
}

/// Bytes a live process has caused to be written to storage so far.
pub fn read_write_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io_write_bytes(&io)
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
        assert_eq!(s.min, Duration::from_millis(1));
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
    fn cpu_time_is_read_after_the_command_name() {
        // A command name with spaces and parentheses must not shift the fields.
        let stat = "4242 (tokio (rt) w) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100 200 300";
        assert_eq!(stat_cpu_secs(stat, 100), Some(3.0));
        assert_eq!(stat_cpu_secs("garbage", 100), None);
    }

    #[test]
    fn written_bytes_are_parsed() {
        let io = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 81920\ncancelled_write_bytes: 0\n";
        assert_eq!(io_write_bytes(io), Some(81_920));
        assert_eq!(io_write_bytes("rchar: 1\n"), None);
    }

    #[test]
    fn own_process_has_a_resident_set() {
        let rss = read_status_kb(std::process::id(), "VmRSS").unwrap();
        assert!(rss > 0);
        assert!(read_cpu_secs(std::process::id()).is_some());
        assert!(read_cpu_secs(u32::MAX).is_none());
        assert!(read_status_kb(u32::MAX, "VmRSS").is_none());
    }
}
