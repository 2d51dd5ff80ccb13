//! pmgfast-archive: (being built)
