"""The release engine: plan, step protocol, journal, orchestrator, retry."""
