//! The pattern set: compile specs once, then match a subject against all of them in one call.
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex_automata::{meta, Input, MatchKind, PatternSet as PatternIdSet};
use regex_syntax::hir::{Hir, Look};

use crate::error::PatternError;
use crate::literals::required_literals;

/// One pattern to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternSpec {
    /// Returned by [`PatternSet::matches`] when the pattern matches (ids need not be unique).
    pub id: i64,
    /// The regex, in the `regex` crate's syntax (or `fancy-regex`'s, for the fallback).
    pub regex: String,
    /// The whole subject must match (`\A(?:re)\z`); otherwise a match anywhere counts.
    pub anchored: bool,
    /// The `regex` crate's `(?i)`: Unicode simple case folding.
    pub case_insensitive: bool,
    /// For patterns that need the fallback: a regex in the `regex` crate's syntax that matches
    /// at least every subject the pattern matches. It gates the slow engine and supplies
    /// prefilter literals. Ignored for patterns the `regex` crate compiles.
    pub prefilter: Option<String>,
}

impl PatternSpec {
    /// A spec with the given id and regex, unanchored, case-sensitive, without prefilter.
    pub fn new(id: i64, regex: impl Into<String>) -> PatternSpec {
        PatternSpec {
            id,
            regex: regex.into(),
            anchored: false,
            case_insensitive: false,
            prefilter: None,
        }
    }
}

/// Bounds on what a set may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted regex source, in bytes.
    pub max_pattern_len: usize,
    /// Deepest accepted nesting of groups and repetitions.
    pub nest_limit: u32,
    /// Largest compiled program of one pattern, in bytes.
    pub pattern_size_limit: usize,
    /// Largest compiled set (all patterns plus the literal automaton), in bytes.
    pub set_size_limit: usize,
    /// Lazy-DFA cache of one pattern, in bytes.
    pub dfa_cache: usize,
    /// Most patterns without literals that share one multi-pattern DFA (1: none share).
    pub group_size: usize,
    /// Backtracking steps the fallback engine may take on one subject before giving up (the
    /// pattern then counts as not matching, and [`SetStats::fallback_errors`] grows).
    pub backtrack_limit: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_pattern_len: 64 * 1024,
            nest_limit: 100,
            pattern_size_limit: 4 << 20,
            set_size_limit: 512 << 20,
            dfa_cache: 1 << 20,
            group_size: 16,
            backtrack_limit: 1_000_000,
        }
    }
}

enum Engine {
    /// Compiled by the `regex` crate.
    Exact(meta::Regex),
    /// Needs the backtracker; `gate` is the caller's relaxed prefilter regex, if any.
    Fancy {
        regex: fancy_regex::Regex,
        gate: Option<meta::Regex>,
    },
}

struct Entry {
    id: i64,
    engine: Engine,
}

/// Fast-engine patterns without literals, compiled into one regex that says which match: one
/// pass over the subject instead of one per pattern. Groups are kept small because a
/// multi-pattern lazy DFA over many unrelated patterns thrashes its cache.
struct Group {
    regex: meta::Regex,
    /// Entry slot of each of the regex's patterns.
    slots: Vec<u32>,
}

fn build_group(patterns: &[(u32, Hir)], limits: &Limits) -> Option<Group> {
    if patterns.len() < 2 {
        return None;
    }
    let hirs: Vec<&Hir> = patterns.iter().map(|(_, hir)| hir).collect();
    let regex = meta::Builder::new()
        .configure(
            meta::Config::new()
                .match_kind(MatchKind::All)
                .nfa_size_limit(Some(limits.pattern_size_limit))
                .dfa_size_limit(Some(limits.pattern_size_limit))
                .hybrid_cache_capacity(limits.dfa_cache * 4),
        )
        .build_many_from_hir(&hirs)
        .ok()?;
    let slots = patterns.iter().map(|(slot, _)| *slot).collect();
    Some(Group { regex, slots })
}

/// What a compiled set consists of (for logs and benchmarks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetStats {
    /// Patterns in the set.
    pub patterns: usize,
    /// Patterns gated by the literal prefilter.
    pub prefiltered: usize,
    /// Patterns run one by one on every subject (no usable literal).
    pub always_run: usize,
    /// Patterns without a usable literal run together, a group at a time, on every subject.
    pub grouped: usize,
    /// Patterns on the slow fallback engine.
    pub fallback: usize,
    /// Distinct literals in the prefilter automaton.
    pub literals: usize,
    /// Approximate heap use of the compiled set, in bytes.
    pub memory: usize,
    /// Subjects on which a fallback pattern hit the backtrack limit (counted as no match).
    pub fallback_errors: u64,
}

/// Many patterns compiled once; [`PatternSet::matches`] reports every one that matches.
pub struct PatternSet {
    entries: Vec<Entry>,
    /// Patterns without literals, run a group at a time.
    groups: Vec<Group>,
    /// Prefilter over all required literals; `literal_owners[i]` are the entries needing literal i.
    prefilter: Option<AhoCorasick>,
    literal_owners: Vec<Vec<u32>>,
    /// Entries without a usable literal: run on every subject.
    always: Vec<u32>,
    memory: usize,
    fallback_errors: AtomicU64,
}

impl std::fmt::Debug for PatternSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatternSet")
            .field("stats", &self.stats())
            .finish()
    }
}

/// The source the fallback engine compiles: the pattern, anchored and flagged as the spec says.
/// The pattern must parse on its own first (so it cannot close the wrapping group), and may not
/// use verbose mode (whose comments could swallow the wrapper's closing parenthesis).
fn wrap_fallback(spec: &PatternSpec) -> Result<String, String> {
    fancy_regex::Expr::parse_tree(&spec.regex).map_err(|e| e.to_string())?;
    let verbose = spec.regex.match_indices("(?").any(|(at, _)| {
        let flags = &spec.regex[at + 2..];
        let end = flags.find([')', ':']).unwrap_or(flags.len());
        let flags = &flags[..end];
        end < spec.regex.len() - at - 2
            && flags.contains('x')
            && flags.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
    });
    if verbose {
        return Err("verbose mode (?x) is not supported by the fallback engine".into());
    }
    let flags = if spec.case_insensitive { "(?i)" } else { "" };
    let regex = &spec.regex;
    Ok(if spec.anchored {
        format!(r"{flags}\A(?:{regex})\z")
    } else {
        format!("{flags}(?:{regex})")
    })
}

/// Parse a regex in the `regex` crate's syntax, anchored and flagged as `spec` says.
fn parse(regex: &str, spec: &PatternSpec, limits: &Limits) -> Result<Hir, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(true)
        .utf8(true)
        .case_insensitive(spec.case_insensitive)
        .nest_limit(limits.nest_limit)
        .build()
        .parse(regex)
        .map_err(|e| e.to_string())?;
    Ok(if spec.anchored {
        Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)])
    } else {
        hir
    })
}

fn build_meta(hir: &Hir, limits: &Limits) -> Result<meta::Regex, String> {
    meta::Builder::new()
        .configure(
            meta::Config::new()
                .nfa_size_limit(Some(limits.pattern_size_limit))
                .onepass_size_limit(Some(limits.pattern_size_limit))
                .dfa_size_limit(Some(limits.pattern_size_limit))
                .hybrid_cache_capacity(limits.dfa_cache),
        )
        .build_from_hir(hir)
        .map_err(|err| match err.size_limit() {
            Some(limit) => format!("compiled pattern exceeds the size limit of {limit} bytes"),
            None => err.to_string(),
        })
}

struct Compiled {
    engine: Engine,
    literals: Option<Vec<Vec<u8>>>,
    memory: usize,
    /// The parsed pattern, for patterns the fast engine runs.
    hir: Option<Hir>,
}

fn compile_one(spec: &PatternSpec, limits: &Limits) -> Result<Compiled, String> {
    if spec.regex.len() > limits.max_pattern_len {
        return Err(format!("longer than {} bytes", limits.max_pattern_len));
    }
    // A pattern with a prefilter is meant for the fallback; others try the fast engine first,
    // and fall back when it cannot parse them (look-around, back-references, atomic groups).
    let parsed = match spec.prefilter {
        Some(_) => Err(None),
        None => parse(&spec.regex, spec, limits).map_err(Some),
    };
    match parsed {
        Ok(hir) => {
            let regex = build_meta(&hir, limits)?;
            Ok(Compiled {
                literals: required_literals(&hir),
                memory: regex.memory_usage() + spec.regex.len(),
                engine: Engine::Exact(regex),
                hir: Some(hir),
            })
        }
        Err(fast_error) => {
            let source = wrap_fallback(spec).map_err(|e| fast_error.clone().unwrap_or(e))?;
            let regex = fancy_regex::RegexBuilder::new(&source)
                .seek(true)
                .backtrack_limit(limits.backtrack_limit)
                .delegate_size_limit(limits.pattern_size_limit)
                .delegate_dfa_size_limit(limits.dfa_cache)
                .build()
                .map_err(|e| match fast_error {
                    Some(fast) => fast,
                    None => e.to_string(),
                })?;
            let hir = match &spec.prefilter {
                Some(relaxed) => Some(
                    parse(relaxed, spec, limits)
                        .map_err(|e| format!("invalid prefilter {relaxed:?}: {e}"))?,
                ),
                None => None,
            };
            // A prefilter too big to compile only costs speed: the backtracker then always runs.
            let (gate, literals, gate_memory) = match hir.map(|h| (build_meta(&h, limits), h)) {
                Some((Ok(gate), hir)) => {
                    let memory = gate.memory_usage();
                    (Some(gate), required_literals(&hir), memory)
                }
                _ => (None, None, 0),
            };
            Ok(Compiled {
                engine: Engine::Fancy { regex, gate },
                literals,
                memory: gate_memory + 8 * source.len() + 1024,
                hir: None,
            })
        }
    }
}

impl PatternSet {
    /// Compile `specs` into one set, or refuse the first pattern that cannot be compiled.
    pub fn new(specs: &[PatternSpec], limits: &Limits) -> Result<PatternSet, PatternError> {
        let (set, mut refused) = Self::build(specs, limits, false);
        match refused.pop() {
            Some(err) => Err(err),
            None => Ok(set),
        }
    }

    /// Compile `specs`, leaving out (and returning) every pattern that cannot be compiled.
    pub fn new_lenient(specs: &[PatternSpec], limits: &Limits) -> (PatternSet, Vec<PatternError>) {
        Self::build(specs, limits, true)
    }

    fn build(
        specs: &[PatternSpec],
        limits: &Limits,
        lenient: bool,
    ) -> (PatternSet, Vec<PatternError>) {
        let refuse = |index: usize, reason: String| PatternError {
            index,
            id: specs[index].id,
            pattern: specs[index].regex.clone(),
            reason,
        };
        let mut entries = Vec::with_capacity(specs.len());
        let mut literal_index: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        let mut literal_owners: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        let mut memory = 0usize;
        let mut refused = Vec::new();
        let mut unfiltered: Vec<(u32, Hir)> = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            let compiled = compile_one(spec, limits).and_then(|c| {
                if memory + c.memory > limits.set_size_limit {
                    let limit = limits.set_size_limit;
                    Err(format!("the set exceeds its size limit of {limit} bytes"))
                } else {
                    Ok(c)
                }
            });
            let compiled = match compiled {
                Ok(compiled) => compiled,
                Err(reason) => {
                    refused.push(refuse(index, reason));
                    if lenient {
                        continue;
                    }
                    break;
                }
            };
            memory += compiled.memory;
            // Fewer than u32::MAX patterns fit in memory, so this never saturates in practice.
            let slot = u32::try_from(entries.len()).unwrap_or(u32::MAX);
            match compiled.literals {
                Some(literals) => {
                    for literal in literals {
                        let next = literal_owners.len();
                        let at = *literal_index.entry(literal).or_insert(next);
                        if at == next {
                            literal_owners.push(Vec::new());
                        }
                        literal_owners[at].push(slot);
                    }
                }
                None => match compiled.hir {
                    Some(hir) if limits.group_size > 1 => unfiltered.push((slot, hir)),
                    _ => always.push(slot),
                },
            }
            entries.push(Entry {
                id: spec.id,
                engine: compiled.engine,
            });
        }
        let mut groups = Vec::new();
        for part in unfiltered.chunks(limits.group_size.max(1)) {
            match build_group(part, limits) {
                Some(group) => {
                    memory += group.regex.memory_usage();
                    groups.push(group);
                }
                None => always.extend(part.iter().map(|(slot, _)| *slot)),
            }
        }
        let mut literals: Vec<(Vec<u8>, usize)> = literal_index.into_iter().collect();
        literals.sort_by_key(|(_, at)| *at);
        let prefilter = AhoCorasickBuilder::new()
            .match_kind(aho_corasick::MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(literals.iter().map(|(lit, _)| lit));
        let prefilter = match prefilter {
            Ok(automaton) if !literals.is_empty() => {
                memory += automaton.memory_usage();
                Some(automaton)
            }
            Ok(_) => None,
            Err(_) => {
                // Only an automaton too large for its state ids fails; run every pattern then.
                always = (0..u32::try_from(entries.len()).unwrap_or(u32::MAX)).collect();
                literal_owners.clear();
                None
            }
        };
        let set = PatternSet {
            entries,
            groups,
            prefilter,
            literal_owners,
            always,
            memory,
            fallback_errors: AtomicU64::new(0),
        };
        (set, refused)
    }

    fn grouped(&self) -> usize {
        self.groups.iter().map(|g| g.slots.len()).sum()
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the set has no pattern.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Ids of the patterns on the slow fallback engine, sorted and deduplicated.
    pub fn slow_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .entries
            .iter()
            .filter(|e| matches!(e.engine, Engine::Fancy { .. }))
            .map(|e| e.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// What the set consists of.
    pub fn stats(&self) -> SetStats {
        SetStats {
            patterns: self.entries.len(),
            prefiltered: self.entries.len() - self.always.len() - self.grouped(),
            always_run: self.always.len(),
            grouped: self.grouped(),
            fallback: self
                .entries
                .iter()
                .filter(|e| matches!(e.engine, Engine::Fancy { .. }))
                .count(),
            literals: self.literal_owners.len(),
            memory: self.memory,
            fallback_errors: self.fallback_errors.load(Ordering::Relaxed),
        }
    }

    /// How many patterns the literal prefilter leaves to run one by one on `text`.
    pub fn candidates(&self, text: &str) -> usize {
        self.candidate_mask(text).iter().filter(|&&c| c).count()
    }

    fn candidate_mask(&self, text: &str) -> Vec<bool> {
        let mut candidate = vec![false; self.entries.len()];
        if let Some(prefilter) = &self.prefilter {
            for hit in prefilter.find_overlapping_iter(text.as_bytes()) {
                for &slot in &self.literal_owners[hit.pattern().as_usize()] {
                    candidate[slot as usize] = true;
                }
            }
        }
        for &slot in &self.always {
            candidate[slot as usize] = true;
        }
        candidate
    }

    /// The ids of every pattern matching `text`, sorted ascending and deduplicated.
    pub fn matches(&self, text: &str) -> Vec<i64> {
        let candidate = self.candidate_mask(text);
        let mut ids: Vec<i64> = candidate
            .iter()
            .zip(&self.entries)
            .filter(|(&is_candidate, entry)| is_candidate && self.entry_matches(entry, text))
            .map(|(_, entry)| entry.id)
            .collect();
        for group in &self.groups {
            let mut found = PatternIdSet::new(group.regex.pattern_len());
            group
                .regex
                .which_overlapping_matches(&Input::new(text), &mut found);
            ids.extend(
                found
                    .iter()
                    .map(|p| self.entries[group.slots[p.as_usize()] as usize].id),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Does any pattern match `text`?
    pub fn is_match(&self, text: &str) -> bool {
        !self.matches(text).is_empty()
    }

    fn entry_matches(&self, entry: &Entry, text: &str) -> bool {
        match &entry.engine {
            Engine::Exact(regex) => regex.is_match(text),
            Engine::Fancy { regex, gate } => {
                if gate.as_ref().is_some_and(|g| !g.is_match(text)) {
                    return false;
                }
                regex.is_match(text).unwrap_or_else(|_| {
                    self.fallback_errors.fetch_add(1, Ordering::Relaxed);
                    false
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(specs: &[PatternSpec]) -> PatternSet {
        PatternSet::new(specs, &Limits::default()).unwrap()
    }

    #[test]
    fn unanchored_anchored_and_case() {
        let mut exe = PatternSpec::new(2, r".*\.exe");
        exe.anchored = true;
        exe.case_insensitive = true;
        let s = set(&[
            PatternSpec::new(1, "image/.*"),
            exe,
            PatternSpec::new(3, r"\d{3}"),
        ]);
        assert_eq!(s.matches("image/png"), vec![1]);
        assert_eq!(s.matches("setup.EXE"), vec![2]);
        assert_eq!(s.matches("setup.exe.txt"), Vec::<i64>::new());
        assert_eq!(s.matches("image/123"), vec![1, 3]);
        assert!(s.slow_ids().is_empty());
    }

    #[test]
    fn fallback_for_lookaround_and_backrefs() {
        let mut gated = PatternSpec::new(2, r"(\w+) \1");
        gated.prefilter = Some(r"(\w+) (?s:.*)".into());
        let s = set(&[PatternSpec::new(1, r"foo(?!bar)"), gated]);
        assert_eq!(s.slow_ids(), vec![1, 2]);
        assert_eq!(s.matches("foobar"), Vec::<i64>::new());
        assert_eq!(s.matches("foobaz"), vec![1]);
        assert_eq!(s.matches("hello hello"), vec![2]);
        assert_eq!(s.matches("hello world"), Vec::<i64>::new());
    }

    #[test]
    fn invalid_and_oversized_patterns_are_refused() {
        let err = PatternSet::new(
            &[PatternSpec::new(1, "ok"), PatternSpec::new(7, "a(")],
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!((err.index, err.id, err.pattern.as_str()), (1, 7, "a("));
        let limits = Limits {
            pattern_size_limit: 10_000,
            ..Limits::default()
        };
        let err = PatternSet::new(&[PatternSpec::new(1, r"\w{1000}")], &limits).unwrap_err();
        assert!(err.reason.contains("size limit"), "{}", err.reason);
    }

    #[test]
    fn fallback_patterns_refuse_verbose_mode_only() {
        let ok = [r"(?!xyz)a", r"(?i:x)(?=b)", r"(?<=x)y"];
        for regex in ok {
            assert!(
                set(&[PatternSpec::new(1, regex)]).slow_ids() == vec![1],
                "{regex}"
            );
        }
        let err = PatternSet::new(
            &[PatternSpec::new(1, r"(?x)a(?=b) # c")],
            &Limits::default(),
        );
        assert!(err.is_err());
    }

    #[test]
    fn lenient_leaves_out_what_does_not_compile() {
        let specs = [
            PatternSpec::new(1, "ok"),
            PatternSpec::new(2, "a("),
            PatternSpec::new(3, "b"),
        ];
        let (s, refused) = PatternSet::new_lenient(&specs, &Limits::default());
        assert_eq!(refused.iter().map(|e| e.index).collect::<Vec<_>>(), vec![1]);
        assert_eq!(s.len(), 2);
        assert_eq!(s.matches("ok b"), vec![1, 3]);
    }

    #[test]
    fn patterns_without_literals_run_in_groups() {
        let specs: Vec<PatternSpec> = (0..40)
            .map(|i| PatternSpec::new(i, format!(r"\b[a-c]+\d{{{}}}", i % 7 + 1)))
            .collect();
        let grouped = set(&specs);
        let single = PatternSet::new(
            &specs,
            &Limits {
                group_size: 1,
                ..Limits::default()
            },
        )
        .unwrap();
        assert_eq!(grouped.stats().grouped, 40);
        assert_eq!(single.stats().always_run, 40);
        for text in [
            "abc1",
            "x a22 bb333",
            "cccccc4444 aaaaaaa55555",
            "nothing",
            "",
        ] {
            assert_eq!(grouped.matches(text), single.matches(text), "{text}");
        }
        assert_eq!(grouped.matches("ab7"), vec![0, 7, 14, 21, 28, 35]);
    }

    #[test]
    fn shared_literals_and_duplicate_ids() {
        let s = set(&[
            PatternSpec::new(5, "hello"),
            PatternSpec::new(5, "hello world"),
            PatternSpec::new(1, "(?i)HELLO"),
        ]);
        assert_eq!(s.matches("say hello world"), vec![1, 5]);
        assert_eq!(s.matches("HeLLo"), vec![1]);
        assert_eq!(s.stats().always_run, 0);
    }
}
