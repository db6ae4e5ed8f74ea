"""Tests of how the service is deployed and run: health, migrations on deploy, the Procfile."""
