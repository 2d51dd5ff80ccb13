//! Times one search over log files (development aid): `scan [--pmg] [-f SENDER] [-x TEXT] FILE...`.
use std::time::Instant;

use pmgfast_tracking::correlate::PrintFilter;
use pmgfast_tracking::mails::MailFilter;
use pmgfast_tracking::pmg;
use pmgfast_tracking::search::{search, Query};
use pmgfast_tracking::source::Input;
use pmgfast_tracking::time::Zone;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut from, mut text, mut files, mut pmg_mode) =
        (String::new(), String::new(), Vec::new(), false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-f" => from = args.next().unwrap_or_default(),
            "-x" => text = args.next().unwrap_or_default(),
            "--pmg" => pmg_mode = true,
            _ => files.push(a),
        }
    }
    let zone = Zone::from_env();
    let now = 1_900_000_000;
    let clock = Instant::now();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    if pmg_mode {
        let mut all = Vec::new();
        for f in &files {
            let q = pmg::Query {
                start: 0,
                end: now,
                offset: 0,
                now,
                filter: PrintFilter {
                    from: from.clone().into_bytes(),
                    ..PrintFilter::default()
                },
                text: text.clone().into_bytes(),
                limit: 0,
                verbose: 1,
                inputs: pmg::Inputs::File(f.into()),
            };
            all.extend(pmg::run(&q, &zone).unwrap());
        }
        println!("pmg: {} output bytes", all.len());
    } else {
        let q = Query {
            filter: MailFilter {
                start: 0,
                end: now,
                from: from.into_bytes(),
                include_greylisted: true,
                include_rejected: true,
                include_ndr: true,
                ..MailFilter::default()
            },
            text: text.into_bytes(),
            margin: 600,
            now,
            ..Query::default()
        };
        let inputs: Vec<Input> = files.iter().map(|f| Input::File(f.into())).collect();
        let found = search(&q, &inputs, &zone).unwrap();
        println!("{} mails", found.mails.len());
    }
    let s = clock.elapsed().as_secs_f64();
    println!("{:.3} s, {:.0} MB/s", s, bytes as f64 / s / 1e6);
}
