"""Tests of the database plumbing."""
