"""Tests for service-quality reports, the dashboard and /metrics."""
