"""The typer application: global options, command registration, exit codes, error rendering.

No release logic here: each command group lives in ``shipit.commands`` and calls the core.
Exit codes: 0 ok, 1 failed, 2 usage/config, 3 incomplete (resumable), 130 interrupted.
No traceback reaches a user unless ``-v`` is given.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import click
import typer
from typer._click import Context as TyperClickContext
from typer._click.exceptions import ClickException as TyperClickException

from shipit import __version__
from shipit.commands.common import Globals
from shipit.errors import ErrorCode, ExitCode, ShipitError
from shipit.helptext import COMMANDS, global_help
from shipit.redact import RedactingFilter, redact, register_env
from shipit.ui.errors import render_error

_typer_display_type = typer.core.TyperOption.display_type_rich


def _flag_display_type(self: typer.core.TyperOption, ctx: TyperClickContext) -> str | None:
    """Plain flags (--json, -v) show no `<bool>` type in --help; other options keep theirs."""
    return None if self.is_flag else _typer_display_type(self, ctx)


typer.core.TyperOption.display_type_rich = _flag_display_type  # type: ignore[method-assign]
# typer >= 0.20 vendors click as typer._click: its usage errors are not click's classes.
_USAGE_ERRORS: tuple[type[Exception], ...] = (click.ClickException, TyperClickException)
_ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)

#: Each top-level command and the module of ``shipit.commands`` that registers it, in the
#: order ``--help`` lists them (``shipit.helptext.COMMANDS``). A module is imported only when
#: one of its commands runs, so start-up does not pay for the engine, the sandbox and the UI.
COMMAND_MODULES: dict[str, str] = {entry.name: entry.module for entry in COMMANDS}


def _late_json(ctx: TyperClickContext, value: bool) -> None:
    """``--json`` given after the command: the same switch as before it."""
    if value and isinstance(ctx.find_root().obj, Globals):
        ctx.find_root().obj.json = True


def _json_parameter() -> typer.core.TyperOption:
    """The ``--json`` option every command accepts after its name (built the way typer builds
    options, so it parses and shows in --help like the others)."""
    holder = typer.Typer(add_completion=False)

    @holder.command()
    def _holder(
        json_output: Annotated[
            bool,
            typer.Option(
                "--json",
                help="Machine-readable output on stdout, nothing else (as shipit --json).",
                callback=_late_json,
                is_eager=True,
                expose_value=False,
            ),
        ] = False,
    ) -> None:
        pass

    [param] = [p for p in typer.main.get_command(holder).params if "--json" in p.opts]
    assert isinstance(param, typer.core.TyperOption)
    return param


_JSON_PARAMETER = _json_parameter()


def add_json_option(command: Any) -> None:
    """Accept ``--json`` after ``command`` and after every subcommand under it, once."""
    if not any("--json" in getattr(p, "opts", ()) for p in command.params):
        command.params.append(_JSON_PARAMETER)
    for sub in getattr(command, "commands", {}).values():
        add_json_option(sub)


class LazyCommands(typer.core.TyperGroup):
    """A typer group that imports a command's module on first use; every command accepts the
    global ``--json`` after its name too (``shipit check --json``)."""

    def list_commands(self, ctx: TyperClickContext) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: TyperClickContext, cmd_name: str) -> typer.core.TyperCommand | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self._load(COMMAND_MODULES[cmd_name])
        return self.commands.get(cmd_name)  # type: ignore[return-value]

    def _load(self, module_name: str) -> None:
        module = importlib.import_module(f"shipit.commands.{module_name}")
        holder = typer.Typer(rich_markup_mode="rich")
        module.register(holder)
        for name, command in typer.main.get_group(holder).commands.items():
            add_json_option(command)
            self.commands.setdefault(name, command)


app = typer.Typer(
    name="shipit",
    cls=LazyCommands,
    help="One safe, resumable command for a whole software release.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"shipit {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Option("-C", "--directory", help=global_help("--directory"), metavar="DIR"),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help=global_help("--config"), metavar="FILE"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help=global_help("--json"))] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help=global_help("--verbose"))
    ] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help=global_help("--no-color"))] = False,
    ci: Annotated[bool, typer.Option("--ci", help=global_help("--ci"))] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help=global_help("--version")
        ),
    ] = False,
) -> None:
    """Validate, release, resume and roll back npm, JSR, PyPI, git and GitHub releases."""
    from shipit.ci import is_ci  # with the release view: only once a command runs

    env = dict(os.environ)
    root = (directory or Path.cwd()).resolve()
    if directory is not None and not root.is_dir():
        raise ShipitError(
            f"directory {directory} does not exist",
            hint="pass an existing project directory to -C",
            exit_code=ExitCode.USAGE,
            code=ErrorCode.USAGE,
        )
    if config is not None and not config.is_absolute():
        config = (Path.cwd() / config).resolve()
    ctx.obj = Globals(
        directory=root,
        config_path=config,
        json=json_output,
        verbose=verbose,
        color=not no_color and "NO_COLOR" not in env,
        ci=is_ci(env, ci),
        env=env,
    )
    _setup_logging(ctx.obj)


def _setup_logging(g: Globals) -> None:
    logger = logging.getLogger("shipit")
    logger.setLevel(logging.DEBUG)
    for handler in list(logger.handlers):
        if getattr(handler, "_shipit_terminal", False):
            logger.removeHandler(handler)
    if g.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
        handler.addFilter(RedactingFilter())
        handler._shipit_terminal = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def _terminate_as_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends a command the way Ctrl-C does (children stopped, lock released, the
    journal left resumable, exit 130), not by the default kill; a release's own handler
    replaces this one while its steps run."""
    raise KeyboardInterrupt


def _json_error(
    args: Sequence[str], error: Mapping[str, object], exit_code: int | None = None
) -> None:
    """With --json, an error is a JSON object on stdout too (never nothing, never a half)."""
    if "--json" not in args:
        return
    import json

    body = {"why": None, "hint": None, **error}
    if exit_code is not None:
        body["exit_code"] = exit_code
    sys.stdout.write(redact(json.dumps({"ok": False, "error": body})) + "\n")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: run the app and turn every outcome into an exit code."""
    register_env()
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    args = sys.argv[1:] if argv is None else argv
    verbose = any(a in ("-v", "--verbose") for a in args)
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=args, prog_name="shipit", standalone_mode=False)
        code = int(rv) if isinstance(rv, int) else 0
    except ShipitError as exc:
        from rich.console import Console

        _json_error(args, exc.to_json())
        console = Console(
            file=sys.stderr, no_color="NO_COLOR" in os.environ or "--no-color" in args
        )
        render_error(console, exc)
        if verbose:
            sys.stderr.write(redact(traceback.format_exc()))
        code = int(exc.exit_code)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except _ABORTS:
        sys.stderr.write("\ninterrupted\n")
        code = int(ExitCode.INTERRUPTED)
        _json_error(args, {"code": str(ErrorCode.INTERRUPTED), "what": "interrupted"}, code)
    except _USAGE_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]
        code = int(ExitCode.USAGE)
        message = getattr(exc, "format_message", None)
        what = message() if callable(message) else str(exc)
        _json_error(args, {"code": str(ErrorCode.USAGE), "what": what}, code)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted: nothing more was started\n")
        code = int(ExitCode.INTERRUPTED)
        _json_error(args, {"code": str(ErrorCode.INTERRUPTED), "what": "interrupted"}, code)
    except Exception as exc:  # last resort: never a traceback without -v
        _json_error(
            args,
            {"code": "internal", "what": f"internal error: {type(exc).__name__}: {exc}"},
            int(ExitCode.FAILED),
        )
        if verbose:
            sys.stderr.write(redact(traceback.format_exc()))
        sys.stderr.write(
            redact(
                f"error: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in shipit. Run again with -v to see the traceback and report it.\n"
            )
        )
        code = int(ExitCode.FAILED)
    sys.stdout.flush()
    raise SystemExit(code)
