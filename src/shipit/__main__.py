"""Entry point for ``python -m shipit``."""

from shipit.cli import main

if __name__ == "__main__":
    main()
