"""What every command shares: global options, output consoles, loading the project.

``Globals`` is built once by the CLI callback from ``-C``, ``--config``, ``--json``, ``-v``,
``--no-color`` and ``--ci``. ``out`` writes to stdout (only JSON when --json), ``err`` to
stderr (progress, messages).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from shipit.config import Config, LoadedConfig, Settings, load
from shipit.redact import redact


def ci_from_env(env: dict[str, str] | os._Environ[str]) -> bool:
    return env.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Globals:
    directory: Path
    config_path: Path | None = None
    json: bool = False
    verbose: bool = False
    color: bool = True
    ci: bool = False
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    _out: Console | None = None
    _err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = Console(
                file=sys.stdout,
                no_color=not self.color,
                highlight=False,
                soft_wrap=self.json,
            )
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = Console(file=sys.stderr, no_color=not self.color, highlight=False)
        return self._err

    @property
    def interactive(self) -> bool:
        return not self.ci and not self.json and sys.stdin.isatty()

    def load_config(self) -> LoadedConfig:
        return load(self.directory, self.config_path)

    def settings(self, config: Config) -> Settings:
        return Settings.from_env(self.env, config)

    def emit_json(self, data: Any) -> None:
        """Print ``data`` as JSON on stdout (redacted), the only stdout output under --json."""
        text = json.dumps(data, indent=2, default=str)
        sys.stdout.write(redact(text) + "\n")
        sys.stdout.flush()


def globals_of(ctx: typer.Context) -> Globals:
    """The Globals the CLI callback stored on the root context."""
    obj = ctx.find_root().obj
    assert isinstance(obj, Globals), "CLI callback did not run"
    return obj


def sub_app(app: typer.Typer, name: str, help: str) -> typer.Typer:
    """A command group ``shipit NAME ...`` added to ``app`` (``--help`` when given alone)."""
    group = typer.Typer(name=name, help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group
