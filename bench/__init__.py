"""pmgfast's benchmark suite: every hot path against its baseline, measured in the same run."""
