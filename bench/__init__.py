"""Load and scale benchmarks for returns-service (run by hand: `python -m bench`)."""
