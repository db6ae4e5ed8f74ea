"""Tests of how the service is deployed and run: health checks, migrations on deploy, the Procfile."""
