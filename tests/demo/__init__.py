"""Tests of the demo: bin/demo, its history and its mailbox."""
