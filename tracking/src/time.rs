//! Time: syslog time stamps, the local time zone, and the time arguments of a query.
//!
//! Log lines carry either a traditional `Mmm dd hh:mm:ss` stamp (no year, local time) or an
//! RFC 3339 stamp. Traditional stamps get their year from "now" the way pmg-log-tracker does
//! (a log month after the current month is last year) and are converted to UTC either with one
//! fixed offset (pmg-log-tracker's rule: the offset of the query's start time) or, in pmgfast's
//! own dialect, with the zone's offset at that very local time (correct across DST changes).
//!
//! The local zone follows `TZ` (IANA name, `:name`, a TZif path or a POSIX rule), else the
//! system zone. Nothing here panics on any input.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::error::Error;

/// Days before each month in a non-leap year (January = 0).
const DAYS_BEFORE_MONTH: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// A local time broken into fields (month counted from 0, like `struct tm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month0: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

/// Seconds since the epoch of a civil time read as UTC (`timegm`), computed the way
/// pmg-log-tracker computes it (Gregorian leap rules; fields are not range-checked).
pub fn timegm(c: &Civil) -> i64 {
    let month0 = c.month0.clamp(0, 11);
    let mut year = c.year;
    let mut days = (year - 1970) * 365 + DAYS_BEFORE_MONTH[month0 as usize];
    if month0 <= 1 {
        year -= 1;
    }
    days += (year - 1968) / 4;
    days -= (year - 1900) / 100;
    days += (year - 1600) / 400;
    days += c.day - 1;
    ((days * 24 + c.hour) * 60 + c.minute) * 60 + c.second
}

/// The local time zone used to read and print local times.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: TimeZone,
}

impl Zone {
    /// The zone named by the process's `TZ` variable, else the system zone.
    pub fn from_env() -> Zone {
        match std::env::var("TZ") {
            Ok(value) => Zone::from_tz_value(&value),
            Err(_) => Zone {
                tz: TimeZone::try_system().unwrap_or(TimeZone::UTC),
            },
        }
    }

    /// The zone a `TZ` value names; an unusable value means UTC, as in the C library.
    pub fn from_tz_value(value: &str) -> Zone {
        let name = value.strip_prefix(':').unwrap_or(value);
        let tz = if name.is_empty() {
            Some(TimeZone::UTC)
        } else if name.starts_with('/') {
            std::fs::read(name)
                .ok()
                .and_then(|data| TimeZone::tzif(name, &data).ok())
        } else {
            TimeZone::get(name)
                .ok()
                .or_else(|| TimeZone::posix(name).ok())
        };
        Zone {
            tz: tz.unwrap_or(TimeZone::UTC),
        }
    }

    /// UTC.
    pub fn utc() -> Zone {
        Zone { tz: TimeZone::UTC }
    }

    /// The offset from UTC, in seconds east, at an instant.
    pub fn offset_at(&self, epoch: i64) -> i64 {
        match Timestamp::from_second(epoch) {
            Ok(ts) => i64::from(self.tz.to_offset(ts).seconds()),
            Err(_) => 0,
        }
    }

    /// The local civil time of an instant.
    pub fn civil(&self, epoch: i64) -> Civil {
        let local = epoch + self.offset_at(epoch);
        civil_from_epoch(local)
    }

    /// The instant of a local civil time; a time that occurs twice (DST end) is read as the
    /// earlier one, a time that does not occur (DST start) is moved forward, as `mktime` does.
    pub fn to_epoch(&self, c: &Civil) -> Option<i64> {
        let dt = DateTime::new(
            i16::try_from(c.year).ok()?,
            i8::try_from(c.month0 + 1).ok()?,
            i8::try_from(c.day).ok()?,
            i8::try_from(c.hour).ok()?,
            i8::try_from(c.minute).ok()?,
            i8::try_from(c.second).ok()?,
            0,
        )
        .ok()?;
        let ts = self.tz.to_ambiguous_timestamp(dt).compatible().ok()?;
        Some(ts.as_second())
    }

    /// `%F %T` of an instant in this zone.
    pub fn format(&self, epoch: i64) -> String {
        let c = self.civil(epoch);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            c.year,
            c.month0 + 1,
            c.day,
            c.hour,
            c.minute,
            c.second
        )
    }
}

/// Civil fields of seconds since the epoch (UTC), valid for any `i64` that fits a year.
pub fn civil_from_epoch(epoch: i64) -> Civil {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month0: month - 1,
        day,
        hour: secs / 3600,
        minute: secs % 3600 / 60,
        second: secs % 60,
    }
}

/// How traditional (yearless, local) stamps become UTC.
#[derive(Debug, Clone)]
pub enum LocalRule {
    /// Subtract one fixed offset from every stamp (pmg-log-tracker: the start time's offset).
    Fixed(i64),
    /// Convert each stamp with the zone's offset at that local time.
    Zone(Zone),
}

/// The context needed to read a stamp: the current year and month (local) and the rule.
#[derive(Debug, Clone)]
pub struct StampReader {
    year: i64,
    month0: i64,
    rule: LocalRule,
    /// (local seconds of the hour start, offset) of the last hour converted with a zone.
    cache: Option<(i64, i64)>,
    /// The last traditional stamp read, with its separator (`Mmm dd hh:mm:ss `), and its time:
    /// consecutive lines mostly share their second.
    last: Option<([u8; LAST_STAMP], usize, i64)>,
}

/// The longest traditional stamp remembered.
const LAST_STAMP: usize = 24;

impl StampReader {
    /// A reader for stamps logged before `now` (an instant), in `zone`.
    pub fn new(now: i64, zone: &Zone, rule: LocalRule) -> StampReader {
        let c = zone.civil(now);
        StampReader {
            year: c.year,
            month0: c.month0,
            rule,
            cache: None,
            last: None,
        }
    }

    /// The time of a line and the text after its stamp, or None if it has no valid stamp.
    /// RFC 3339 stamps are tried first, as pmg-log-tracker does.
    pub fn read<'a>(&mut self, line: &'a [u8], strict: bool) -> Option<(i64, &'a [u8])> {
        // The same stamp as the line before (it begins with a month name, so it cannot be an
        // RFC 3339 stamp, and the separator it ends with decided where its reading stopped).
        if let Some((stamp, len, epoch)) = &self.last {
            if line.len() > *len && line[..*len] == stamp[..*len] {
                return Some((*epoch, &line[*len..]));
            }
        }
        if let Some(found) = read_rfc3339_stamp(line, strict) {
            return Some(found);
        }
        let (local, rest) = read_traditional_stamp(line, self.year, self.month0)?;
        let epoch = match &self.rule {
            LocalRule::Fixed(offset) => local - offset,
            LocalRule::Zone(zone) => {
                let hour = local - local.rem_euclid(3600);
                let offset = match self.cache {
                    Some((h, off)) if h == hour => off,
                    _ => {
                        let off = zone_offset_for_local(zone, local);
                        self.cache = Some((hour, off));
                        off
                    }
                };
                local - offset
            }
        };
        let used = line.len() - rest.len();
        // A stamp with text after it was read up to and including its separator.
        if !rest.is_empty() && used <= LAST_STAMP {
            let mut stamp = [0u8; LAST_STAMP];
            stamp[..used].copy_from_slice(&line[..used]);
            self.last = Some((stamp, used, epoch));
        }
        Some((epoch, rest))
    }
}

/// The offset that turns a local time (as seconds, read like UTC) into UTC.
fn zone_offset_for_local(zone: &Zone, local: i64) -> i64 {
    let c = civil_from_epoch(local);
    match zone.to_epoch(&c) {
        Some(epoch) => local - epoch,
        None => zone.offset_at(local),
    }
}

/// A traditional stamp `Mmm dd hh:mm:ss` as local seconds (read like UTC), and the rest of the
/// line after the one separator that follows it. Mirrors pmg-log-tracker's lenient reading:
/// one- or two-digit fields, any one character between day and hour.
pub fn read_traditional_stamp(line: &[u8], cur_year: i64, cur_month0: i64) -> Option<(i64, &[u8])> {
    if line.len() < 15 {
        return None;
    }
    let month0 = match &line[0..3] {
        b"Jan" => 0,
        b"Feb" => 1,
        b"Mar" => 2,
        b"Apr" => 3,
        b"May" => 4,
        b"Jun" => 5,
        b"Jul" => 6,
        b"Aug" => 7,
        b"Sep" => 8,
        b"Oct" => 9,
        b"Nov" => 10,
        b"Dec" => 11,
        _ => return None,
    };
    let year = if cur_month0 < month0 {
        cur_year - 1
    } else {
        cur_year
    };
    let mut rest = &line[3..];
    let spaces = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    rest = &rest[spaces..];
    let (day, r) = read_number(rest, 2)?;
    if day == 0 {
        return None;
    }
    let r = r.get(1..)?;
    let (hour, r) = read_number(r, 2)?;
    let r = r.strip_prefix(b":")?;
    let (minute, r) = read_number(r, 2)?;
    let r = r.strip_prefix(b":")?;
    let (second, r) = read_number(r, 2)?;
    let r = r.get(1..).unwrap_or(&[]);
    let local = timegm(&Civil {
        year,
        month0,
        day,
        hour,
        minute,
        second,
    });
    Some((local, r))
}

/// Up to `max` leading ASCII digits as a number (at least one digit).
fn read_number(data: &[u8], max: usize) -> Option<(i64, &[u8])> {
    let n = data
        .iter()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 {
        return None;
    }
    let value = data[..n]
        .iter()
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    Some((value, &data[n..]))
}

/// An RFC 3339 stamp at the start of a line, and the rest after the following space.
///
/// `strict` is pmg-log-tracker's rule: the stamp is exactly 27 or 32 characters
/// (`YYYY-MM-DDTHH:MM:SS.ffffff` plus `Z` or `±HH:MM`). Otherwise any fraction (or none) is
/// accepted, so rsyslog's and journald's variants read too.
pub fn read_rfc3339_stamp(line: &[u8], strict: bool) -> Option<(i64, &[u8])> {
    let len = memchr::memchr(b' ', line)?;
    if strict && len != 27 && len != 32 {
        return None;
    }
    if !strict && !(20..=40).contains(&len) {
        return None;
    }
    let token = &line[..len];
    if strict {
        // pmg-log-tracker drops exactly ".ffffff" (7 bytes) after the seconds.
        let dot = token.iter().position(|&b| b == b'.')?;
        let zone_start = dot.checked_add(7)?;
        if zone_start > token.len() || dot != 19 {
            return None;
        }
        let epoch = parse_rfc3339_parts(&token[..dot], &token[zone_start..])?;
        return Some((epoch, &line[len + 1..]));
    }
    if token.len() < 20 {
        return None;
    }
    let mut zone_start = 19;
    if token[19] == b'.' {
        zone_start = 20
            + token[20..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
    }
    let epoch = parse_rfc3339_parts(&token[..19], &token[zone_start..])?;
    Some((epoch, &line[len + 1..]))
}

/// `YYYY-MM-DDTHH:MM:SS` and a zone (`Z`, `z`, `±HH:MM` or `±HHMM`) to seconds since the epoch.
pub fn parse_rfc3339_parts(datetime: &[u8], zone: &[u8]) -> Option<i64> {
    if datetime.len() != 19 {
        return None;
    }
    let d = datetime;
    let sep_ok = d[4] == b'-'
        && d[7] == b'-'
        && matches!(d[10], b'T' | b't' | b' ')
        && d[13] == b':'
        && d[16] == b':';
    if !sep_ok {
        return None;
    }
    let num = |s: &[u8]| -> Option<i64> {
        if s.iter().all(u8::is_ascii_digit) {
            Some(s.iter().fold(0i64, |a, b| a * 10 + i64::from(b - b'0')))
        } else {
            None
        }
    };
    let year = num(&d[0..4])?;
    let month = num(&d[5..7])?;
    let day = num(&d[8..10])?;
    let hour = num(&d[11..13])?;
    let minute = num(&d[14..16])?;
    let second = num(&d[17..19])?;
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let offset = match zone {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let h = num(&[*h1, *h2])?;
            let m = num(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let local = timegm(&Civil {
        year,
        month0: month - 1,
        day,
        hour,
        minute,
        second,
    });
    Some(local - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// A query time as pmg-log-tracker accepts it: RFC 3339, `YYYY-MM-DD HH:MM:SS` (local time),
/// or seconds since the epoch.
pub fn parse_query_time(text: &str, zone: &Zone) -> Result<i64, Error> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() >= 20 {
        let (dt, rest) = b.split_at(19);
        let zone_part = if rest.first() == Some(&b'.') {
            let n = 1 + rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            &rest[n..]
        } else {
            rest
        };
        if let Some(epoch) = parse_rfc3339_parts(dt, zone_part) {
            return Ok(epoch);
        }
    }
    if b.len() == 19 {
        // A local date and time: the fields checked like RFC 3339 with a UTC zone first.
        if parse_rfc3339_parts(b, b"Z").is_some() {
            let c = Civil {
                year: num_field(&b[0..4]),
                month0: num_field(&b[5..7]) - 1,
                day: num_field(&b[8..10]),
                hour: num_field(&b[11..13]),
                minute: num_field(&b[14..16]),
                second: num_field(&b[17..19]),
            };
            if let Some(epoch) = zone.to_epoch(&c) {
                return Ok(epoch);
            }
        }
    }
    if !b.is_empty() && (b[0] == b'-' || b[0].is_ascii_digit()) {
        if let Ok(epoch) = t.parse::<i64>() {
            return Ok(epoch);
        }
    }
    Err(Error::BadTime(text.to_string()))
}

fn num_field(s: &[u8]) -> i64 {
    s.iter()
        .fold(0i64, |a, b| a * 10 + i64::from(b.wrapping_sub(b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Remembering the last stamp changes no answer: a reader fed lines in a row reads
        /// each as a fresh reader does.
        #[test]
        fn remembered_stamps_read_as_fresh_ones(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    prop::sample::select(b"Mar 1:0 5x\t2024-03-11T00:00:10.000001Z".to_vec()),
                    0..30),
                1..20)
        ) {
            let zone = Zone::from_tz_value("UTC");
            let mut reader = StampReader::new(1_710_115_200, &zone, LocalRule::Zone(zone.clone()));
            for line in &lines {
                // half the lines start like a real stamp, so that stamps repeat
                let mut real = b"Mar 11 00:00:1".to_vec();
                real.extend_from_slice(line);
                for l in [&real[..], &line[..]] {
                    let mut fresh =
                        StampReader::new(1_710_115_200, &zone, LocalRule::Zone(zone.clone()));
                    prop_assert_eq!(reader.read(l, false), fresh.read(l, false));
                }
            }
        }
    }

    #[test]
    fn traditional_stamp_in_vienna_winter() {
        let (local, rest) = read_traditional_stamp(b"Dec 18 15:04:15 pmg x", 2020, 11).unwrap();
        assert_eq!(local - 3600, 0x5FDCB6DF);
        assert_eq!(rest, b"pmg x");
    }

    #[test]
    fn log_month_after_current_month_is_last_year() {
        let (a, _) = read_traditional_stamp(b"Dec 31 23:59:59 h", 2021, 0).unwrap();
        let (b, _) = read_traditional_stamp(b"Dec 31 23:59:59 h", 2020, 11).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn strict_rfc3339_is_27_or_32_chars() {
        let line = b"2023-03-14T00:00:31.185246+01:00 helga x";
        let (t, rest) = read_rfc3339_stamp(line, true).unwrap();
        assert_eq!(t, 1_678_748_431);
        assert_eq!(rest, b"helga x");
        assert!(read_rfc3339_stamp(b"2023-03-14T00:00:31+01:00 helga x", true).is_none());
        assert_eq!(
            read_rfc3339_stamp(b"2023-03-14T00:00:31+01:00 helga x", false)
                .unwrap()
                .0,
            1_678_748_431
        );
        // 27 characters without a dot: pmg-log-tracker would slice out of range.
        assert!(read_rfc3339_stamp(b"2023-03-14T00:00:31ZZZZZZZZ h", true).is_none());
    }

    #[test]
    fn query_times() {
        let vienna = Zone::from_tz_value("Europe/Vienna");
        assert_eq!(
            parse_query_time("2020-12-18 15:00:00", &vienna).unwrap(),
            1_608_300_000
        );
        assert_eq!(
            parse_query_time("1608300000", &vienna).unwrap(),
            1_608_300_000
        );
        assert_eq!(
            parse_query_time("2020-12-18T14:00:00Z", &vienna).unwrap(),
            1_608_300_000
        );
        assert!(parse_query_time("yesterday", &vienna).is_err());
    }

    #[test]
    fn civil_round_trip() {
        for epoch in [-86_401, 0, 951_782_400, 1_608_300_255, 4_102_444_799] {
            let c = civil_from_epoch(epoch);
            assert_eq!(timegm(&c), epoch);
        }
    }

    #[test]
    fn zone_conversion_follows_dst() {
        let vienna = Zone::from_tz_value("Europe/Vienna");
        let mut r = StampReader::new(1_656_000_000, &vienna, LocalRule::Zone(vienna.clone()));
        let (summer, _) = r.read(b"Jun 23 12:00:00 h", false).unwrap();
        let (winter, _) = r.read(b"Jan 23 12:00:00 h", false).unwrap();
        assert_eq!(summer % 86_400, 10 * 3600);
        assert_eq!(winter % 86_400, 11 * 3600);
    }
}
