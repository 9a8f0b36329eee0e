"""The integration feature's rules: feed, webhooks (subscriptions, deliveries), sync bundle."""
