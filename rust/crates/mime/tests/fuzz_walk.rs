//! Property tests (the crate's fuzz target): whatever the bytes, the walk returns a consistent
//! table and never panics or stalls.
//!
//! Inputs are random bytes and "token soup": MIME fragments (headers, boundaries, encoded
//! words, base64 and quoted-printable runs, line endings) mixed with random bytes, which
//! reaches the parser's corners far more often than noise does. `cargo test` runs a bounded
//! number of cases (`PROPTEST_CASES` to change it); the ignored `soak` test runs for
//! `PMGFAST_FUZZ_SECONDS` (default 600) and reports the slowest input:
//! `PMGFAST_FUZZ_SECONDS=600 cargo test --release -p pmgfast-mime --test fuzz_walk -- --ignored --nocapture`.
use pmgfast_mime::{decode_body, html, rfc2047, walk, Limits};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use std::time::{Duration, Instant};

const TOKENS: &[&[u8]] = &[
    b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
    b"Content-Type: multipart/alternative; boundary=b2\n",
    b"Content-Type: multipart/digest; boundary=b1\n",
    b"Content-Type: multipart/mixed\n",
    b"Content-Type: message/rfc822\n",
    b"Content-Type: message/delivery-status\n",
    b"Content-Type: text/html; charset=utf-8\n",
    b"Content-Type: text/plain; charset=\"iso-2022-jp\"\n",
    b"Content-Type: text/plain; charset=big5\n",
    b"Content-Type: application/octet-stream; name*0*=utf-8''%E2%82; name*1*=%AC.exe\n",
    b"Content-Type: multipart/mixed; boundary*=us-ascii'en'b1; boundary*0=x\n",
    b"Content-Disposition: attachment; filename=\"=?utf-8?b?w6k=?=\\0.zip\"\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"Subject: =?utf-8?q?caf=C3=A9?= =?iso-2022-jp?b?GyRCJDMbKEI=?=\n",
    b"From someone\n",
    b" folded continuation\n",
    b"X:\n",
    b":bad\n",
    b"--b1\n",
    b"--b1\r\n",
    b"--b1--\n",
    b"--b2\n",
    b"--b2--  \r\n",
    b"--",
    b"\n",
    b"\r\n",
    b"\r",
    b"iVBORw0KGgoAAAANSUhEUg==\n",
    b"UEsDBBQAAAAIAA==\n",
    b"TVqQAAMAAAAEAAAA//8AALgAAAA\n",
    b"=3D=\r\n=ZZ=\n",
    b"<html><script>x</script><p>Hi &amp; http://a.example/x</p><!-- c",
    b"&#x1F600; &#0; &#xD800; www.x.org, ",
    b"\x00\xff\xfe\x80\x1b$B",
];

fn soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => prop::sample::select(TOKENS).prop_map(|t| t.to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
}

fn check(data: &[u8], limits: &Limits) {
    let m = walk(data, limits);
    assert!(!m.parts.is_empty());
    if limits.max_parts != 0 {
        assert!(m.parts.len() <= limits.max_parts);
    }
    let size = if limits.max_size == 0 {
        data.len()
    } else {
        data.len().min(limits.max_size)
    };
    for (i, p) in m.parts.iter().enumerate() {
        assert_eq!(p.aid as usize, i + 1);
        assert!(p.parent < p.aid);
        if p.parent > 0 {
            assert_eq!(m.parts[p.parent as usize - 1].depth + 1, p.depth);
        }
        assert!(p.header_start <= p.body_start && p.body_start <= p.body_end && p.body_end <= size);
        if p.is_leaf {
            let (body, _) = decode_body(&data[p.body_start..p.body_end], &p.transfer_encoding);
            assert_eq!(body.len(), p.decoded_size);
            assert!(p.magic_type.is_some() && p.glob_type.is_some());
        }
    }
    for d in &m.defects {
        assert!(d.aid >= 1 && d.aid as usize <= m.parts.len());
    }
}

proptest! {
    #[test]
    fn walk_random_bytes(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&data, &Limits::default());
    }

    #[test]
    fn walk_token_soup(data in soup(), parts in 0usize..6, depth in 0usize..5) {
        check(&data, &Limits::default());
        check(&data, &Limits { max_parts: parts, max_depth: depth, max_size: data.len() / 2 });
    }

    #[test]
    fn text_algorithms(s in ".{0,300}", b in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = html::to_text(&s);
        let _ = rfc2047::decode_header(&b);
        let _ = decode_body(&b, "base64");
        let _ = decode_body(&b, "quoted-printable");
    }
}

#[test]
#[ignore]
fn soak() {
    let seconds: u64 = std::env::var("PMGFAST_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let strategy = (
        prop_oneof![soup(), prop::collection::vec(any::<u8>(), 0..4096)],
        0usize..6,
        0usize..6,
    );
    let cases = Cell::new(0u64);
    let slowest = Cell::new(Duration::ZERO);
    let slowest_input = std::cell::RefCell::new(Vec::new());
    while Instant::now() < deadline {
        // a fresh runner per batch: a runner runs its `cases` once; each gets a random seed
        let mut runner = TestRunner::new(Config {
            cases: 2000,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |(data, parts, depth)| {
                let t = Instant::now();
                check(&data, &Limits::default());
                check(
                    &data,
                    &Limits {
                        max_parts: parts,
                        max_depth: depth,
                        max_size: 0,
                    },
                );
                if t.elapsed() > slowest.get() {
                    slowest.set(t.elapsed());
                    *slowest_input.borrow_mut() = data.clone();
                }
                cases.set(cases.get() + 1);
                Ok(())
            })
            .unwrap();
    }
    // Time the slowest input again, alone: a one-off stall of the machine is not a hang.
    let input = slowest_input.into_inner();
    let again = (0..5)
        .map(|_| {
            let t = Instant::now();
            check(&input, &Limits::default());
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    let (cases, slowest) = (cases.get(), slowest.get());
    println!(
        "soak: {cases} inputs in {seconds} s, no panic; slowest {slowest:?} ({} bytes, {again:?} when timed again)",
        input.len()
    );
    assert!(
        again < Duration::from_millis(100),
        "an input takes {again:?}"
    );
}
