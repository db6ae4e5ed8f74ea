"""State machines, declared as data. The return workflow is the only writer of Return.status."""
