//! Property tests (the crate's fuzz target): arbitrary patterns and subjects never panic, and a
//! set answers exactly like each pattern compiled and run on its own.
//!
//! `PROPTEST_CASES=200000 cargo test --release -p pmgfast-patterns --test proptest_set` is the
//! long run; CI runs the default (bounded) number of cases.
use pmgfast_patterns::{Limits, PatternSet, PatternSpec};
use proptest::prelude::*;
use regex_automata::meta;
use regex_syntax::hir::{Hir, Look};

/// Pieces of regex syntax (valid and not) that exercise the parser, the literal extractor and
/// both engines.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-cA-C0-9 ]{1,4}",
        Just(r"\b".to_owned()),
        Just(r"(?-u:\b)".to_owned()),
        Just(r"\d+".to_owned()),
        Just(r"[^a-c]".to_owned()),
        Just(".".to_owned()),
        Just("(?i)".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("|".to_owned()),
        Just("*".to_owned()),
        Just("{2,3}".to_owned()),
        Just(r"(?=a)".to_owned()),
        Just(r"(?<!b)".to_owned()),
        Just(r"(a)\1".to_owned()),
        Just(r"\z".to_owned()),
        Just("^".to_owned()),
        Just("é€".to_owned()),
        Just(r"\x{2E}".to_owned()),
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..6).prop_map(|v| v.concat())
}

fn spec() -> impl Strategy<Value = PatternSpec> {
    (0i64..6, pattern(), any::<bool>(), any::<bool>()).prop_map(|(id, regex, anchored, ci)| {
        PatternSpec {
            id,
            regex,
            anchored,
            case_insensitive: ci,
            prefilter: None,
        }
    })
}

fn subject() -> impl Strategy<Value = String> {
    prop_oneof!["[a-cA-C0-9 é€\n.]{0,24}", any::<String>()]
}

/// The pattern on its own, with the `regex` crate only (None when only the fallback takes it).
fn alone(spec: &PatternSpec) -> Option<meta::Regex> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(spec.case_insensitive)
        .build()
        .parse(&spec.regex)
        .ok()?;
    let hir = if spec.anchored {
        Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)])
    } else {
        hir
    };
    meta::Regex::builder().build_from_hir(&hir).ok()
}

/// 256 cases in CI; `PROPTEST_CASES` sets more for a long run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig {
        cases: cases.unwrap_or(256),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sets_never_panic(specs in prop::collection::vec(spec(), 0..8), texts in prop::collection::vec(subject(), 1..4)) {
        let (set, _refused) = PatternSet::new_lenient(&specs, &Limits::default());
        for text in &texts {
            let found = set.matches(text);
            prop_assert!(found.windows(2).all(|w| w[0] < w[1]));
            let _ = set.candidates(text);
        }
        let _ = set.slow_ids();
        let _ = set.stats();
    }

    #[test]
    fn a_set_answers_like_its_patterns_alone(specs in prop::collection::vec(spec(), 1..10), texts in prop::collection::vec(subject(), 1..6)) {
        let fast: Vec<PatternSpec> = specs.into_iter().filter(|s| alone(s).is_some()).collect();
        let set = PatternSet::new(&fast, &Limits::default()).expect("every spec compiles alone");
        prop_assert!(set.slow_ids().is_empty());
        for text in &texts {
            let mut expected: Vec<i64> = fast
                .iter()
                .filter(|s| alone(s).is_some_and(|r| r.is_match(text.as_str())))
                .map(|s| s.id)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(set.matches(text), expected, "{:?} on {:?}", fast, text);
        }
    }

    #[test]
    fn prefilter_literals_are_necessary(words in prop::collection::vec("[a-zA-Z]{3,8}", 1..30), text in "[a-zA-Z ]{0,80}") {
        // Literal-heavy sets go through the Aho-Corasick prefilter; grouping and prefiltering
        // must not lose a match.
        let specs: Vec<PatternSpec> = words
            .iter()
            .enumerate()
            .map(|(i, w)| PatternSpec { case_insensitive: i % 2 == 0, ..PatternSpec::new(i as i64, format!(r"\b{w}\w*")) })
            .collect();
        let set = PatternSet::new(&specs, &Limits::default()).unwrap();
        let expected: Vec<i64> = specs
            .iter()
            .filter(|s| alone(s).unwrap().is_match(text.as_str()))
            .map(|s| s.id)
            .collect();
        prop_assert_eq!(set.matches(&text), expected);
    }
}
