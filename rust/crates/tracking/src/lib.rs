//! pmgfast-tracking: (being built)
