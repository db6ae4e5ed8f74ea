"""Refunds domain."""
