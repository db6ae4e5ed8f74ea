"""Outbox domain."""
