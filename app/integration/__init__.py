"""Integration: the change feed (``GET /events``, read from the outbox), webhooks (subscriptions,
signed deliveries sent by the worker) and the offline bundle of a field app (``/sync/bundle``)."""
