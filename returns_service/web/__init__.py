"""Shared plumbing for the server-rendered pages (customer portal and staff console)."""
