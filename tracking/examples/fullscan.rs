//! Times the full correlation of log files (development aid): `fullscan FILE...`.
use std::time::Instant;

use pmgfast_tracking::mails::MailFilter;
use pmgfast_tracking::search::{search, Query};
use pmgfast_tracking::source::Input;
use pmgfast_tracking::time::Zone;

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let q = Query {
        filter: MailFilter {
            start: 0,
            end: 1 << 40,
            from: b"nobody@nowhere".to_vec(),
            ..MailFilter::default()
        },
        margin: 600,
        now: 1_900_000_000,
        full_scan: true,
        ..Query::default()
    };
    let inputs: Vec<Input> = files.iter().map(|f| Input::File(f.into())).collect();
    let clock = Instant::now();
    let found = search(&q, &inputs, &Zone::from_tz_value("UTC")).unwrap();
    let s = clock.elapsed().as_secs_f64();
    println!(
        "{} mails, {:.3} s, {:.0} MB/s",
        found.mails.len(),
        s,
        bytes as f64 / s / 1e6
    );
}
