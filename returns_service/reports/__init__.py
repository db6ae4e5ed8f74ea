"""Service-quality reports (from the audit trail), the staff dashboard and /metrics."""
