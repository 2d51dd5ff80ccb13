"""Spam detection: the score engine, content rules, the Bayesian store and learning, user lists.

===========================  =================================================================
module                       job
===========================  =================================================================
:mod:`.rulefile`             the rule-file format (SpamAssassin ``.cf`` syntax) read into values
:mod:`.perlre`               Perl regex literals as Python regexes
:mod:`.ruleset`              a rule file compiled into native pattern sets, run per message
:mod:`.view`                 a message as the tests see it (areas, dates, URIs, anchors)
:mod:`.evals`                built-in tests called as ``eval:name(...)``
:mod:`.engine`               the score engine (settings, report, PMG's log line)
:mod:`.bayes`                the Bayesian filter (tokenize, classify, learn, autolearn policy)
:mod:`.bayes_store`          token counts: PostgreSQL with a per-worker cache, or memory
:mod:`.learn`                learning from files, maildirs and mboxes with progress
:mod:`.awl`                  the auto-welcomelist (``spam.use_awl``)
:mod:`.userprefs`            per-user welcome/blocklists from ``UserPrefs``, sender addresses
:mod:`.scanner`              the engine on the pipeline's scanner interface
:mod:`.corpus`               reading labelled mail; cross-validation folds
:mod:`.metrics`              FP/FN rates, 1 - AUC, histograms
:mod:`.evaluate`             cross-validation / train-test evaluation
:mod:`.sa_compare`           SpamAssassin on the same folds
===========================  =================================================================

The default rule file is ``rules/default.cf``.
"""

from pmgfast.spam.engine import Hit, SpamEngine, SpamReport, SpamSettings, load_rules

__all__ = ["Hit", "SpamEngine", "SpamReport", "SpamSettings", "load_rules"]
