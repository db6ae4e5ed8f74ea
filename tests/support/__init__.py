"""Test support: fixtures loaded as pytest plugins (browser, SMTP, Stripe) and helpers."""
