//! pmgfast-patterns: (being built)
