//! Required literals: byte strings of which every match of a pattern contains at least one.
//!
//! The set matcher feeds them to one Aho-Corasick automaton as a prefilter: a pattern whose
//! required literals do not occur in the subject cannot match it, so it is not run. The
//! literals come from `regex-syntax`'s prefix/suffix extractor applied to the whole pattern and
//! to every tail of every concatenation (a match of `x(abc|def)y` contains a match of
//! `(abc|def)y`, which starts with `abc` or `def`); alternations combine their branches'
//! literals. Literals are ASCII-lowercased (the automaton matches ASCII case-insensitively: a
//! superset, which a prefilter may be), deduplicated and minimised (a literal containing another
//! one is redundant). Literals shorter than [`MIN_LITERAL_LEN`] bytes are useless as a filter.
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

/// Shortest literal worth prefiltering on.
pub const MIN_LITERAL_LEN: usize = 3;
/// Most literals one pattern may contribute.
pub const MAX_LITERALS: usize = 64;
/// How deep the search for literals descends into the pattern.
const MAX_DEPTH: usize = 12;
/// How many tails of one concatenation are tried.
const MAX_TAILS: usize = 48;

/// The literals any match of `hir` contains at least one of (ASCII-lowercased), or `None` when
/// no useful set exists (the pattern must then always be run).
pub fn required_literals(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    best(hir, 0).map(|c| c.literals)
}

struct Candidate {
    literals: Vec<Vec<u8>>,
    score: (usize, usize),
}

impl Candidate {
    fn new(literals: Vec<Vec<u8>>) -> Option<Candidate> {
        let literals = minimise(literals);
        let shortest = literals.iter().map(Vec::len).min()?;
        if shortest < MIN_LITERAL_LEN || literals.len() > MAX_LITERALS {
            return None;
        }
        // Longer is rarer (up to a point); fewer literals make a cheaper automaton.
        let score = (shortest.min(8), MAX_LITERALS - literals.len());
        Some(Candidate { literals, score })
    }
}

fn keep_better(best: &mut Option<Candidate>, other: Option<Candidate>) {
    if let Some(other) = other {
        if best.as_ref().is_none_or(|b| other.score > b.score) {
            *best = Some(other);
        }
    }
}

fn extract(kind: ExtractKind, hir: &Hir) -> Option<Candidate> {
    let seq = Extractor::new()
        .kind(kind)
        .limit_class(16)
        .limit_repeat(8)
        .limit_literal_len(64)
        .limit_total(256)
        .extract(hir);
    let literals = seq.literals()?;
    if literals.is_empty() {
        return None; // matches nothing; never worth a literal
    }
    Candidate::new(literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

fn best(hir: &Hir, depth: usize) -> Option<Candidate> {
    let mut found = extract(ExtractKind::Prefix, hir);
    keep_better(&mut found, extract(ExtractKind::Suffix, hir));
    if depth >= MAX_DEPTH {
        return found;
    }
    match hir.kind() {
        HirKind::Concat(subs) => {
            for start in 1..subs.len().min(MAX_TAILS) {
                let tail = Hir::concat(subs[start..].to_vec());
                keep_better(&mut found, extract(ExtractKind::Prefix, &tail));
            }
            for sub in subs {
                keep_better(&mut found, best(sub, depth + 1));
            }
        }
        HirKind::Capture(cap) => keep_better(&mut found, best(&cap.sub, depth + 1)),
        HirKind::Repetition(rep) if rep.min >= 1 => {
            keep_better(&mut found, best(&rep.sub, depth + 1));
        }
        HirKind::Alternation(alts) => {
            let mut union = Vec::new();
            for alt in alts {
                union.extend(best(alt, depth + 1)?.literals);
            }
            keep_better(&mut found, Candidate::new(union));
        }
        _ => {}
    }
    found
}

/// Lowercase, sort, deduplicate, and drop every literal that contains a shorter one.
fn minimise(mut literals: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    for lit in &mut literals {
        lit.make_ascii_lowercase();
    }
    literals.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    literals.dedup();
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(literals.len());
    for lit in literals {
        if !kept.iter().any(|k| contains(&lit, k)) {
            kept.push(lit);
        }
    }
    kept
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(re: &str) -> Option<Vec<String>> {
        let hir = regex_syntax::parse(re).unwrap();
        required_literals(&hir).map(|v| {
            v.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn plain_literal() {
        assert_eq!(lits("hello world"), Some(vec!["hello world".into()]));
    }

    #[test]
    fn inner_literal_after_unbounded_prefix() {
        assert_eq!(lits(r"\w+@example\.com"), Some(vec!["@example.com".into()]));
    }

    #[test]
    fn alternation_unions_branches() {
        let both = Some(vec!["foo".into(), "barbaz".into()]);
        assert_eq!(lits(r"\d(?:foo|barbaz)\d"), both);
        let prefixed = Some(vec!["xfoo".into(), "xbarbaz".into()]);
        assert_eq!(lits(r"x(?:foo|barbaz)\d"), prefixed);
    }

    #[test]
    fn case_insensitive_literals_collapse() {
        assert_eq!(lits(r"(?i)viagra"), Some(vec!["viagra".into()]));
    }

    #[test]
    fn nothing_useful() {
        assert_eq!(lits(r"\d+"), None);
        assert_eq!(lits(r"a.b"), None);
        assert_eq!(lits(r"(?:abc)?x"), None);
        assert_eq!(lits(r"abc|\d"), None);
    }

    #[test]
    fn minimise_drops_containing_literals() {
        assert_eq!(
            minimise(vec![b"abcd".to_vec(), b"bc".to_vec(), b"BC".to_vec()]),
            vec![b"bc".to_vec()]
        );
    }
}
