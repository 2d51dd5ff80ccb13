//! Golden tests: pmg-log-tracker's own expected outputs (../shared/corpus/logs/pmg-log-tracker),
//! compared line by line; `#` header lines only need to be in the same places (upstream's rule).

use std::path::{Path, PathBuf};

use pmgfast_tracking::correlate::{IdMatch, PrintFilter};
use pmgfast_tracking::pmg::{run, Inputs, Query};
use pmgfast_tracking::time::{parse_query_time, parse_rfc3339_parts, Zone};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/logs/pmg-log-tracker")
}

/// Splits a command line with single quotes, as the case table writes it.
fn split(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in args.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn query(args: &[String], input: PathBuf, now: i64, zone: &Zone) -> Query {
    let mut q = Query {
        start: 0,
        end: now,
        offset: 0,
        now,
        filter: PrintFilter::default(),
        text: Vec::new(),
        limit: 0,
        verbose: 0,
        inputs: Inputs::File(input),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-v" => q.verbose += 1,
            "-vv" => q.verbose += 2,
            "-s" => q.start = parse_query_time(it.next().unwrap(), zone).unwrap(),
            "-e" => q.end = parse_query_time(it.next().unwrap(), zone).unwrap(),
            "-q" => q.filter.ids.push(IdMatch::parse(it.next().unwrap())),
            "-f" => q.filter.from = it.next().unwrap().as_bytes().to_vec(),
            "-t" => q.filter.to = it.next().unwrap().as_bytes().to_vec(),
            "-h" => q.filter.host = it.next().unwrap().as_bytes().to_vec(),
            "-x" => q.text = it.next().unwrap().as_bytes().to_vec(),
            "-g" => q.filter.exclude_greylist = true,
            "-n" => q.filter.exclude_ndr = true,
            other => panic!("unexpected argument {other}"),
        }
    }
    q.offset = zone.offset_at(q.start);
    q
}

/// upstream's compare_output: same line count, `#` lines at the same places, others equal.
fn compare(expected: &str, got: &str, case: &str) {
    let e: Vec<&str> = expected.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    for (i, (a, b)) in e.iter().zip(&g).enumerate() {
        if a.starts_with("# ") && b.starts_with("# ") {
            continue;
        }
        assert_eq!(a, b, "{case}: line {} differs", i + 1);
    }
    assert_eq!(e.len(), g.len(), "{case}: line count differs\n{got}");
}

#[test]
fn corpus_cases_match_pmg_log_tracker() {
    let dir = corpus();
    let table = std::fs::read_to_string(dir.join("cases.tsv")).expect("corpus cases.tsv");
    let mut n = 0;
    for row in table.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (case, input, expected, now, tz, args) =
            (cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
        let zone = Zone::from_tz_value(tz);
        let now_local = parse_rfc3339_parts(now.as_bytes(), b"Z").unwrap();
        let now = now_local - zone.offset_at(now_local);
        let input = dir.join(input.trim_start_matches("tests/"));
        let q = query(&split(args), input, now, &zone);
        let body = run(&q, &zone).unwrap();
        let mut got = String::from("# LogReader: 1\n# Query options\n");
        for _ in &q.filter.ids {
            got.push_str("# QID: x\n");
        }
        got.push_str("# Start: x\n# End: x\n# End Query Options\n\n");
        got.push_str(&String::from_utf8_lossy(&body));
        let expected =
            std::fs::read_to_string(dir.join(expected.trim_start_matches("tests/"))).unwrap();
        compare(&expected, &got, case);
        n += 1;
    }
    assert_eq!(n, 7);
}
