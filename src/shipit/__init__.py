"""shipit: one safe, resumable command for a whole software release."""

__version__ = "0.1.0"
