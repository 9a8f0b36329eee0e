"""The outbox: one event per audit record, written in the same transaction, read in ``position``
order by pollers (``read_after``) — the worker today, the change feed and webhooks next.

Why a poller reading ``after=<position>`` never skips a row: a position must never become
visible after a larger one. An autoincrement alone does not give that on PostgreSQL (the audit
``seq`` shows it): transaction A takes 41, B takes 42, B commits, a poller reads 42 and moves its
mark past 41, then A commits 41 and it is never read. So the outbox takes a transaction-level
advisory lock (``pg_advisory_xact_lock`` on one fixed key) just before it draws positions; the lock
is released only at commit or rollback, so positions are drawn in commit order. The cost is that
writing transactions are serialised from their audit record to their commit — the last moments
of a request, where the write already holds its row locks. (The alternative, exposing only rows
below the oldest running transaction's snapshot, needs ``pg_snapshot_xmin`` bookkeeping in every
reader and still delays readers behind one long transaction.) SQLite has a single writer: its
order is already commit order, and the lock is a no-op there.
"""
