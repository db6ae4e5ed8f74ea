"""The test suite: one folder per package of the service; tests/support holds the fixtures."""
