"""shipit: one safe, resumable command for a whole software release."""

import sys as _sys

__version__ = "0.1.0"

# httpx's __init__ imports its command-line client (httpx._main: rich.progress, pygments,
# click) whenever those are installed, as they are beside shipit: about 100 ms of every
# command that talks HTTP, for a client shipit never runs. A None in sys.modules makes that
# import fail as httpx expects when its [cli] extra is missing (httpx.main then only says so).
_sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
