//! Times index searches of one hour each (development aid): `hour INDEX BASE NOW HOUR_START...`.
use std::path::PathBuf;
use std::time::Instant;

use pmgfast_tracking::mails::MailFilter;
use pmgfast_tracking::search::Query;
use pmgfast_tracking::time::Zone;

/// CPU time of this thread so far (Linux: /proc/thread-self/schedstat), in seconds.
fn cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (index, base) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    let now: i64 = args[2].parse().unwrap_or(0);
    for h in &args[3..] {
        let start: i64 = h.parse().unwrap_or(0);
        let q = Query {
            filter: MailFilter {
                start,
                end: start + 3600,
                ..MailFilter::default()
            },
            margin: 600,
            now,
            ..Query::default()
        };
        let clock = Instant::now();
        let c0 = cpu();
        let found =
            pmgfast_tracking::index::search(&index, Some(&base), &q, &Zone::from_tz_value("UTC"));
        let s = clock.elapsed().as_secs_f64();
        let c = cpu() - c0;
        let rows: usize = found
            .as_ref()
            .map_or(0, |f| f.mails.iter().map(|m| m.recipients.len()).sum());
        let t2 = Instant::now();
        drop(found);
        println!(
            "{rows} rows, {:.1} ms, {:.1} ms CPU (+{:.1} ms to free)",
            s * 1000.0,
            c * 1000.0,
            t2.elapsed().as_secs_f64() * 1000.0
        );
    }
}
