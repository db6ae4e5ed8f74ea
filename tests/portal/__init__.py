"""Tests of the customer return portal."""
