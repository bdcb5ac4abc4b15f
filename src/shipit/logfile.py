"""The release log: ``.shipit/releases/<tag>/shipit.log``, everything that happened, no secrets.

``release_log(release_dir)`` attaches a file handler to the ``shipit`` logger tree for the
length of a release (resume, rollback): each command run and its output (``shipit.proc``),
each HTTP request with method, URL, status and duration (``shipit.http``), every step
transition, retry and its reason (the orchestrator's ``log_event``), and
notification outcomes (``shipit.notify``, apprise). Every line is redacted by value, by a
filter on the record and again on the formatted text (tracebacks included). ``-v`` puts the
same records on the terminal (the CLI's handler).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from shipit import __version__
from shipit.redact import RedactingFilter, redact
from shipit.workspace import private_file

LOG_NAME = "shipit.log"
FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"

#: Logger trees that go into the release log.
LOGGERS: tuple[str, ...] = ("shipit", "apprise")


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output (message, traceback, stack) is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_path(release_dir: Path) -> Path:
    return release_dir / LOG_NAME


def make_handler(path: Path, level: int = logging.DEBUG) -> logging.Handler:
    """A file handler (append) with redaction and the release-log format."""
    private_file(path)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=False)
    handler.setLevel(level)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(RedactingFormatter(FORMAT, DATE_FORMAT))
    handler._shipit_release_log = True  # type: ignore[attr-defined]
    return handler


@contextlib.contextmanager
def release_log(
    release_dir: Path,
    *,
    argv: Sequence[str] | None = None,
    loggers: Sequence[str] = LOGGERS,
    level: int = logging.DEBUG,
) -> Iterator[Path]:
    """Write every log record of the release to ``<release_dir>/shipit.log`` while active.

    Appends (a resume or rollback continues the same file), starting with a header naming
    the command line (redacted), shipit's version and the process id.
    """
    path = log_path(release_dir)
    handler = make_handler(path, level)
    attached: list[tuple[logging.Logger, int]] = []
    for name in loggers:
        logger = logging.getLogger(name)
        attached.append((logger, logger.level))
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
        logger.addHandler(handler)
    args = list(sys.argv if argv is None else argv)
    command = shlex.join(["shipit", *args[1:]] if argv is None else args)
    logging.getLogger("shipit.log").info(
        "=== %s (shipit %s, pid %d, python %s) at %s",
        redact(command),
        __version__,
        os.getpid(),
        sys.version.split()[0],
        time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    try:
        yield path
    except BaseException as exc:
        logging.getLogger("shipit.log").error(
            "=== ended by %s: %s", type(exc).__name__, redact(str(exc)).splitlines()[0:1]
        )
        raise
    finally:
        logging.getLogger("shipit.log").info("=== log closed")
        for logger, old_level in attached:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
        handler.close()
