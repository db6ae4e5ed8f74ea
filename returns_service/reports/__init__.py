"""Service-quality reports read from the audit trail: first-response and resolution times,
CSAT and NPS, the dashboard's charts and the CSV export. Read-only: it changes nothing."""
