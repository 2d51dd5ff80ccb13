//! Property tests (the crate's fuzz target): no input makes the lister panic or run away.
//!
//! Inputs are arbitrary bytes behind every archive signature, and the corpus archives with
//! bytes flipped, inserted or cut. `PROPTEST_CASES=100000 cargo test --release -p
//! pmgfast-archive --test proptest_archive` is the long run; CI runs the default cases.
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pmgfast_archive::{list, BuiltinClassifier, Limits, UNREADABLE};
use proptest::prelude::*;

const KEY: &[u8] = b"bhcftqarohcdiayfohalohkgmoefxrrgfnczssgybajvkzjaahpfrlqsratkhhfvpxytculmwgmtyzujlbjlgrhtwxhzpjazlibbwepffyjyfkjwzyofgpopoueurinpdujkphxwhnaxfkaiwrpzdqsnwughtejr";
const SAMPLES: &[&str] = &[
    "clam.zip",
    "clam.bz2.zip",
    "clam.d64.zip",
    "clam.tar.gz",
    "clam.7z",
    "clam.newc.cpio",
    "clam.odc.cpio",
    "clam.bin-le.cpio",
    "clam.bin-be.cpio",
    "clam.exe.bz2",
    "clam-v2.rar",
    "clam-v3.rar",
    "clam_cache_emax.tgz",
];
const SIGNATURES: &[&[u8]] = &[
    b"PK\x03\x04",
    b"\x1f\x8b\x08",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07\x00",
    b"Rar!\x1a\x07\x01\x00",
    b"070701",
    b"070707",
    b"\xc7\x71",
];

fn sample(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../../shared/corpus/av/clamav")
        .join(format!("{name}.xor"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    raw.iter()
        .enumerate()
        .map(|(i, b)| b ^ KEY[i % KEY.len()])
        .collect()
}

fn limits() -> Limits {
    Limits {
        time_budget: Duration::from_secs(5),
        ..Limits::default()
    }
}

fn check(data: &[u8]) {
    let start = Instant::now();
    let l = list(data, "part.bin", &BuiltinClassifier, &limits());
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(l.members.len() <= Limits::default().max_files);
    assert_eq!(l.types().contains(UNREADABLE), l.unreadable);
}

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Cut(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Flip(at, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Cut),
    ]
}

/// 400 cases in CI; `PROPTEST_CASES` sets more for a long run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig {
        cases: cases.unwrap_or(400),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_behind_a_signature(sig in prop::sample::select(SIGNATURES), tail in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut data = sig.to_vec();
        data.extend(tail);
        check(&data);
    }

    #[test]
    fn mutated_corpus_archives(name in prop::sample::select(SAMPLES), edits in prop::collection::vec(edit(), 1..6)) {
        let mut data = sample(name);
        for e in edits {
            match e {
                Edit::Flip(at, b) => {
                    let len = data.len().max(1);
                    if let Some(x) = data.get_mut(at % len) { *x ^= b | 1; }
                }
                Edit::Insert(at, bytes) => {
                    let at = at % (data.len() + 1);
                    data.splice(at..at, bytes);
                }
                Edit::Cut(at) => data.truncate(at % (data.len() + 1)),
            }
        }
        check(&data);
    }
}

#[test]
fn a_gzip_bomb_stops_at_the_size_limit() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    let l = list(&bomb, "bomb.gz", &BuiltinClassifier, &Limits::default());
    assert!(
        l.unreadable && l.errors[0].contains("bytes decompressed"),
        "{l:?}"
    );
    let small = Limits {
        max_size: 1 << 30,
        time_budget: Duration::from_millis(1),
        ..Limits::default()
    };
    let l = list(&bomb, "bomb.gz", &BuiltinClassifier, &small);
    assert!(l.unreadable && l.errors[0].contains("time budget"), "{l:?}");
}

#[test]
fn too_many_files_stop_the_listing() {
    let mut builder = tar::Builder::new(Vec::new());
    for i in 0..50 {
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("f{i}.txt"), &b"x"[..])
            .unwrap();
    }
    let data = builder.into_inner().unwrap();
    let limits = Limits {
        max_files: 10,
        ..Limits::default()
    };
    let l = list(&data, "many.tar", &BuiltinClassifier, &limits);
    assert_eq!(l.members.len(), 10);
    assert!(
        l.unreadable && l.errors[0].contains("more than 10 files"),
        "{l:?}"
    );
}
