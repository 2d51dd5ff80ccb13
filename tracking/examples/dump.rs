//! Prints the mails pmgfast finds in a log file (development aid): `dump FILE [NOW]`.
use pmgfast_tracking::mails::MailFilter;
use pmgfast_tracking::search::{search, Query};
use pmgfast_tracking::source::Input;
use pmgfast_tracking::time::Zone;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let now: i64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_609_455_599);
    let q = Query {
        filter: MailFilter {
            start: 0,
            end: i64::MAX / 2,
            include_greylisted: true,
            include_rejected: true,
            include_ndr: true,
            ..MailFilter::default()
        },
        keep_lines: args.len() > 3,
        margin: 600,
        now,
        ..Query::default()
    };
    let zone = Zone::from_env();
    let found = search(&q, &[Input::File(args[1].clone().into())], &zone).unwrap();
    for m in &found.mails {
        println!(
            "{} {} from=<{}> client={} qids={:?} fid={}",
            zone.format(m.time),
            m.id,
            String::from_utf8_lossy(&m.from),
            String::from_utf8_lossy(&m.client),
            m.qids
                .iter()
                .map(|q| String::from_utf8_lossy(q).into_owned())
                .collect::<Vec<_>>(),
            String::from_utf8_lossy(&m.filter_id)
        );
        for r in &m.recipients {
            println!(
                "    to=<{}> {} ({})",
                String::from_utf8_lossy(&r.to),
                r.status.name(),
                String::from_utf8_lossy(&r.relay)
            );
        }
        for l in &m.lines {
            println!("      L{} {}", l.lineno, String::from_utf8_lossy(&l.text));
        }
    }
}
