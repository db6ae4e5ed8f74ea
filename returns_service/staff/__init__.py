"""Staff domain."""
