//! pmgfast-mime: (being built)
