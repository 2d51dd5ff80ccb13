"""Actions: carrying out the rule engine's decisions on the mail.

- :mod:`~pmgfast.actions.plan`: which recipients stay in Postfix's copy, what is re-injected,
  stored, sent, and the milter's reply (pure);
- :mod:`~pmgfast.actions.rewrite`: one copy of the mail from the received bytes and its edits;
- :mod:`~pmgfast.actions.headers`: header fields and milter header operations;
- :mod:`~pmgfast.actions.reinject`: the SMTP client for Postfix's re-injection port;
- :mod:`~pmgfast.actions.generate`: notifications and NDRs;
- :mod:`~pmgfast.actions.effects`: the side effects, real or dry-run;
- :mod:`~pmgfast.actions.log`: the log lines, in PMG's vocabulary.
"""
