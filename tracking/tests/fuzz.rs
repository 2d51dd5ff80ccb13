//! No input makes the tracker panic: random bytes, and real lines cut, spliced and with bytes
//! flipped, through the correlator in both dialects, the PMG output, the sparse and full
//! searches, the index codec and the segment reader.

use std::sync::Arc;

use pmgfast_tracking::correlate::{Config, Correlator, IdMatch, PrintFilter};
use pmgfast_tracking::index::codec::{decode_entry, LineMode, Reader};
use pmgfast_tracking::index::segment::Segment;
use pmgfast_tracking::mails::MailFilter;
use pmgfast_tracking::pmg::{self, Inputs};
use pmgfast_tracking::search::{search, Query};
use pmgfast_tracking::source::Input;
use pmgfast_tracking::syslog::Dialect;
use pmgfast_tracking::time::{LocalRule, StampReader, Zone};
use proptest::prelude::*;

fn pool() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut lines = Vec::new();
    for p in [
        root.join("../../shared/corpus/logs/pmg-log-tracker/test_input_mixed"),
        root.join("../../shared/corpus/logs/pmg-log-tracker/test_input_foreign_lines"),
        root.join("tests/data/pmgfast_milter.log"),
    ] {
        let data = std::fs::read(&p).expect("corpus and test data");
        lines.extend(data.split(|&b| b == b'\n').map(<[u8]>::to_vec));
    }
    lines
}

fn soup() -> impl Strategy<Value = Vec<u8>> {
    let lines = pool();
    let n = lines.len();
    prop::collection::vec(
        (0..n, 0usize..4, any::<u8>(), 0usize..400, any::<bool>()),
        1..120,
    )
    .prop_map(move |picks| {
        let mut out = Vec::new();
        for (i, how, byte, at, newline) in picks {
            let mut l = lines[i].clone();
            match how {
                0 => {}
                1 => l.truncate(at.min(l.len())),
                2 => {
                    if !l.is_empty() {
                        let k = at % l.len();
                        l[k] = byte;
                    }
                }
                _ => l.extend_from_slice(&lines[(i + at) % n]),
            }
            out.extend_from_slice(&l);
            if newline {
                out.push(b'\n');
            }
        }
        out
    })
}

fn correlate_all(data: &[u8], dialect: Dialect, filter: PrintFilter) {
    let zone = Zone::from_tz_value("Europe/Vienna");
    let cfg = Config {
        dialect,
        start: 0,
        end: 1 << 40,
        keep_lines: true,
        filter,
        prefilter: None,
    };
    let rule = match dialect {
        Dialect::Pmg => LocalRule::Fixed(3600),
        Dialect::Pmgfast => LocalRule::Zone(zone.clone()),
    };
    let mut cor = Correlator::new(cfg, StampReader::new(1_609_455_599, &zone, rule));
    for line in data.split(|&b| b == b'\n') {
        cor.feed(line, line.len() % 3 == 0);
        let _ = cor.take_printed();
    }
    cor.flush_opened_before(1 << 40);
    cor.finish();
    let _ = cor.take_printed();
    let _ = cor.oldest_open_line();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        correlate_all(&data, Dialect::Pmg, PrintFilter::default());
        correlate_all(&data, Dialect::Pmgfast, PrintFilter::default());
        let (head, texts) = data.split_at(data.len() / 2);
        let mut r = Reader::new(head);
        let mut t = Reader::new(texts);
        while !r.is_empty() {
            if decode_entry(&mut r, Some(&mut t), LineMode::Full).is_none() {
                break;
            }
        }
    }

    #[test]
    fn mutated_real_lines_never_panic(data in soup(), from in "[a-z]{0,3}", ndr in any::<bool>()) {
        let filter = PrintFilter {
            from: from.clone().into_bytes(),
            to: b"test".to_vec(),
            ids: vec![IdMatch::parse("1C6B541C5D"), IdMatch::parse("T5FDCB6DFL00000000")],
            exclude_ndr: ndr,
            exclude_greylist: !ndr,
            text: true,
            ..PrintFilter::default()
        };
        correlate_all(&data, Dialect::Pmg, filter.clone());
        correlate_all(&data, Dialect::Pmgfast, filter);
        let zone = Zone::from_tz_value("Europe/Vienna");
        let data = Arc::new(data);
        let q = pmg::Query {
            start: 0,
            end: 1 << 40,
            offset: 3600,
            now: 1_609_455_599,
            filter: PrintFilter::default(),
            text: b"reject".to_vec(),
            limit: 3,
            verbose: 2,
            inputs: Inputs::Bytes(data.clone()),
        };
        pmg::run(&q, &zone).expect("bytes never fail to read");
        for full_scan in [false, true] {
            let q = Query {
                filter: MailFilter { start: 0, end: 1 << 40, from: from.clone().into_bytes(), ..MailFilter::default() },
                text: b"local".to_vec(),
                keep_lines: true,
                margin: 600,
                now: 1_609_455_599,
                full_scan,
                ..Query::default()
            };
            search(&q, &[Input::Bytes(data.clone())], &zone).expect("bytes never fail");
        }
    }
}

#[test]
fn damaged_segments_are_errors() {
    let dir = std::env::temp_dir().join(format!("pmgfast-fuzz-seg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seg-000001.pti");
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for len in [0usize, 10, 119, 120, 121, 500, 5000] {
        let mut data = vec![0u8; len];
        for b in &mut data {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            *b = rng as u8;
        }
        if len >= 8 {
            data[len - 8..].copy_from_slice(b"PMGFTEND");
        }
        std::fs::write(&path, &data).unwrap();
        assert!(
            Segment::open(&path).is_err(),
            "{len} random bytes open as a segment"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
