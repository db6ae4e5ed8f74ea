"""Reliability suite: API fuzzing, stateful workflow runs, fault injection, access checks."""
