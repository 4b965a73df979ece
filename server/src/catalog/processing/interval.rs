//! `catalog.processingInterval`: how long until an entity is processed again.

use rand::Rng;
use serde_json::Value;

/// Backstage's default: a random 100–150 s per item.
pub const DEFAULT_INTERVAL_SECS: i64 = 100;

/// The refresh schedule: a random delay in `[min, 1.5 * min]` spreads load, or
/// disabled (`processingInterval: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessingInterval {
    Every { min_secs: i64 },
    Disabled,
}

impl Default for ProcessingInterval {
    fn default() -> Self {
        ProcessingInterval::Every { min_secs: DEFAULT_INTERVAL_SECS }
    }
}

impl ProcessingInterval {
    /// Parses the config value: absent → default; `false` → disabled; a
    /// duration object `{milliseconds|seconds|minutes|hours|days: N, ...}` (keys add up).
    pub fn from_config(value: Option<&Value>) -> Result<Self, String> {
        let Some(value) = value else {
            return Ok(Self::default());
        };
        match value {
            Value::Null => Ok(Self::default()),
            Value::Bool(false) => Ok(Self::Disabled),
            Value::Object(parts) if !parts.is_empty() => {
                let mut millis = 0f64;
                for (unit, amount) in parts {
                    let factor = match unit.as_str() {
                        "milliseconds" => 1.0,
                        "seconds" => 1_000.0,
                        "minutes" => 60_000.0,
                        "hours" => 3_600_000.0,
                        "days" => 86_400_000.0,
                        other => {
                            return Err(format!(
                                "catalog.processingInterval: unknown duration unit '{other}', expected one of \
                                 milliseconds, seconds, minutes, hours, days"
                            ))
                        }
                    };
                    let amount = amount
                        .as_f64()
                        .filter(|n| *n >= 0.0)
                        .ok_or_else(|| format!("catalog.processingInterval.{unit}: expected a non-negative number"))?;
                    millis += amount * factor;
                }
                // Sub-second intervals round up to one second: the store schedules in seconds.
                let secs = (millis / 1000.0).ceil().max(1.0) as i64;
                Ok(Self::Every { min_secs: secs })
            }
            other => Err(format!(
                "catalog.processingInterval: expected false or a duration object like {{minutes: 2}}, got {other}"
            )),
        }
    }

    pub fn is_enabled(&self) -> bool {
        matches!(self, Self::Every { .. })
    }

    /// Seconds until the next run: random in `[min, 1.5 * min]`. Disabled
    /// processing still needs a schedule for items processed on demand; it
    /// uses the default range.
    pub fn next_refresh_secs(&self) -> i64 {
        let min = match self {
            Self::Every { min_secs } => *min_secs,
            Self::Disabled => DEFAULT_INTERVAL_SECS,
        };
        let max = min + min / 2;
        rand::thread_rng().gen_range(min..=max.max(min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_config_values() {
        assert_eq!(ProcessingInterval::from_config(None).unwrap(), ProcessingInterval::default());
        assert_eq!(ProcessingInterval::from_config(Some(&json!(false))).unwrap(), ProcessingInterval::Disabled);
        assert_eq!(
            ProcessingInterval::from_config(Some(&json!({"minutes": 1, "seconds": 30}))).unwrap(),
            ProcessingInterval::Every { min_secs: 90 }
        );
        assert_eq!(
            ProcessingInterval::from_config(Some(&json!({"milliseconds": 10}))).unwrap(),
            ProcessingInterval::Every { min_secs: 1 }
        );
    }

    #[test]
    fn rejects_bad_values() {
        let unit = ProcessingInterval::from_config(Some(&json!({"fortnights": 1}))).unwrap_err();
        assert!(unit.contains("unknown duration unit 'fortnights'"), "{unit}");
        let negative = ProcessingInterval::from_config(Some(&json!({"seconds": -1}))).unwrap_err();
        assert!(negative.contains("catalog.processingInterval.seconds"), "{negative}");
        assert!(ProcessingInterval::from_config(Some(&json!(true))).is_err());
        assert!(ProcessingInterval::from_config(Some(&json!("5m"))).is_err());
        assert!(ProcessingInterval::from_config(Some(&json!({}))).is_err());
    }

    #[test]
    fn next_refresh_is_within_range() {
        let default = ProcessingInterval::default();
        for _ in 0..200 {
            let secs = default.next_refresh_secs();
            assert!((100..=150).contains(&secs), "{secs}");
        }
        let custom = ProcessingInterval::Every { min_secs: 10 };
        for _ in 0..200 {
            assert!((10..=15).contains(&custom.next_refresh_secs()));
        }
    }
}
