"""Widgets for the Acme toolkit."""

__version__ = "1.4.0"
