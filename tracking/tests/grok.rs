//! Queue ids in real Postfix messages: every postfix-grok-patterns case (corpus) that names a
//! `postfix_queueid` is one the parser finds at the start of the message, followed by `": "`.

use pmgfast_tracking::qid::postfix_qid_prefix;

/// The value of `key:` in a grok case file (quoted or not).
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix(key)?.strip_prefix(':')?.trim();
        Some(rest.trim_matches('"'))
    })
}

#[test]
fn grok_queue_ids_are_found() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus/logs/postfix-grok-patterns");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (Some(data), Some(qid)) = (field(&text, "data"), field(&text, "postfix_queueid"))
        else {
            continue;
        };
        if qid == "NOQUEUE" || !data.starts_with(qid) {
            // the id in the middle of the message (e.g. after "warning: ") is not a prefix
            continue;
        }
        let rest = &data.as_bytes()[qid.len()..];
        if !rest.starts_with(b": ") {
            continue;
        }
        let found = postfix_qid_prefix(data.as_bytes()).map(|(q, _)| q.to_vec());
        assert_eq!(found.as_deref(), Some(qid.as_bytes()), "{}", path.display());
        checked += 1;
    }
    assert!(
        checked >= 50,
        "only {checked} grok cases had a leading queue id"
    );
}
