"""Inbound webhooks from payment providers: verify, record once, hand to a service."""
