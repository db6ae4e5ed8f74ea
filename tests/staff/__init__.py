"""Tests of staff accounts: access, tokens, passwords."""
