"""Returns domain."""
