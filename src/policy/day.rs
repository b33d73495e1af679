//! UTC days, as waivers are dated: `2027-01-31`, compared with today.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable that sets today, for tests (`YYYY-MM-DD`).
pub const TODAY_VARIABLE: &str = "CLUSTERDOC_TODAY";

const DAY_SECONDS: u64 = 86_400;

/// A UTC day, as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(u64);

impl Day {
    /// `YYYY-MM-DD`, a real day.
    pub fn parse(text: &str) -> Result<Day, String> {
        let well_formed = text.len() == 10
            && text.chars().enumerate().all(|(i, c)| match i {
                4 | 7 => c == '-',
                _ => c.is_ascii_digit(),
            });
        let at = match well_formed {
            true => humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).ok(),
            false => None,
        };
        let at = at.ok_or_else(|| format!("{text:?} is not a day (YYYY-MM-DD)"))?;
        Ok(Day::of(at))
    }

    /// Today in UTC, or the day `CLUSTERDOC_TODAY` names (for tests).
    pub fn today() -> Result<Day, String> {
        match std::env::var(TODAY_VARIABLE) {
            Ok(text) => Day::parse(&text).map_err(|e| format!("{TODAY_VARIABLE}: {e}")),
            Err(_) => Ok(Day::by_the_clock()),
        }
    }

    /// Today in UTC by the system clock.
    pub fn by_the_clock() -> Day {
        Day::of(SystemTime::now())
    }

    fn of(at: SystemTime) -> Day {
        Day(at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / DAY_SECONDS))
    }

    pub fn plus_days(self, days: u64) -> Day {
        Day(self.0 + days)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = UNIX_EPOCH + Duration::from_secs(self.0 * DAY_SECONDS);
        f.write_str(&humantime::format_rfc3339_seconds(at).to_string()[..10])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_and_print_as_dates_and_order_in_time() {
        let day = Day::parse("2027-01-31").unwrap();
        assert_eq!(day.to_string(), "2027-01-31");
        assert_eq!(day.plus_days(1).to_string(), "2027-02-01");
        assert!(Day::parse("2024-02-29").unwrap() < Day::parse("2024-03-01").unwrap());
        for bad in ["2027-02-30", "2027-1-31", "31.01.2027", "2027-01-31T00:00:00Z", ""] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }
}
