"""The pure-Python twin of the Rust tracking core (``tracking/src``): the reference in
differential tests, the baseline in benchmarks, and the engine under
``PMGFAST_NO_EXTENSIONS=1``. Module for module: ``stamps`` (time.rs), ``lineparse`` (qid.rs,
syslog.rs), ``correlate`` (correlate/), ``mails`` (mails.rs), ``pmgformat`` (pmgfmt.rs),
``scan`` (source.rs, scan.rs, pmg.rs, search.rs)."""
