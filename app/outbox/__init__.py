"""The outbox: one event per audit record, inserted in the same transaction, read in ``position``
order by pollers (``read_after``) — the change feed and webhooks next.

Why a poller reading ``after=<position>`` never skips a row: a position must never become
visible after a larger one. A number drawn when the row is inserted does not give that on
PostgreSQL (the audit ``seq`` shows it): transaction A takes 41, B takes 42, B commits, a poller
reads 42 and moves its mark past 41, then A commits 41 and it is never read. So events are
inserted without a position, and the session's ``before_commit`` hook numbers them as the very
last statement before ``COMMIT``, after taking a transaction-level advisory lock
(``pg_advisory_xact_lock`` on one fixed key) that is released only once the commit is visible:
positions are handed out in commit order. The lock is held for one ``UPDATE`` and the commit, and
no row lock is ever taken after it (so it cannot be part of a deadlock). The alternative,
exposing only rows below the oldest running transaction (``pg_snapshot_xmin``), needs the feed
ordered by transaction id rather than a plain number, and delays every reader behind the longest
transaction. SQLite has one writer at a time: its order is already commit order, the row id is
the position and there is no lock.
"""
