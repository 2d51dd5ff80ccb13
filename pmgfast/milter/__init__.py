"""The milter: Postfix hands every message to pmgfast here.

- :mod:`~pmgfast.milter.pool`: the prefork pool (master, workers, respawn, recycle, reload,
  drain);
- :mod:`~pmgfast.milter.callbacks`: the pymilter callbacks of one connection;
- :mod:`~pmgfast.milter.context`: what the callbacks collect (connection, envelope, headers);
- :mod:`~pmgfast.milter.spill`: message bodies in memory or spilled to a file;
- :mod:`~pmgfast.milter.service`: configuration, rules and database wired into the pool;
- :mod:`~pmgfast.milter.client`: the MTA side of the protocol (load generator, tests, checks).
"""
