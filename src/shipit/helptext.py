"""``shipit --help`` without the CLI framework: the global options and commands as data, and
the same panels typer draws with rich, drawn here in a few milliseconds.

``render`` returns None when it cannot promise typer's exact layout (a terminal narrower than
``MIN_WIDTH``); the caller then lets typer draw the help. ``shipit.cli`` takes its command
table from ``COMMANDS`` and its global options' help from ``GLOBAL_OPTIONS``; a test renders
both ways at several widths and compares them.
"""

from __future__ import annotations

import itertools
import os
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

USAGE = "shipit [OPTIONS] COMMAND [ARGS]..."
SUMMARY = "One safe, resumable command for a whole software release."
MIN_WIDTH = 60


@dataclass(frozen=True)
class GlobalOption:
    long: str
    short: str
    metavar: str
    help: str

    @property
    def takes_value(self) -> bool:
        return bool(self.metavar)


#: The options of ``shipit`` itself, in the order ``--help`` lists them.
GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption("--directory", "-C", "DIR", "Act as if started in DIR."),
    GlobalOption("--config", "", "FILE", "Configuration file (default: shipit.toml)."),
    GlobalOption("--json", "", "", "Machine-readable output on stdout, nothing else."),
    GlobalOption("--verbose", "-v", "", "Show details and logs."),
    GlobalOption("--no-color", "", "", "No colours (also NO_COLOR)."),
    GlobalOption("--ci", "", "", "CI mode: no prompts, no animations."),
    GlobalOption("--version", "", "", "Print version."),
    GlobalOption("--help", "", "", "Show this message and exit."),
)


def global_help(long: str) -> str:
    """The help text of the global option ``long``: ``shipit.cli`` declares each option with
    it, so typer's help and this module's say the same."""
    return next(option.help for option in GLOBAL_OPTIONS if option.long == long)


@dataclass(frozen=True)
class CommandEntry:
    name: str
    module: str  # the module of ``shipit.commands`` that registers it
    summary: str  # the first paragraph of its help, as ``--help`` lists it


#: Every top-level command, the module that registers it and its summary, in ``--help`` order.
COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry(
        "check",
        "check",
        "Is this project ready to release? Runs every check at once and reports every problem.",
    ),
    CommandEntry(
        "plan",
        "release",
        "Show every step of the release, whether it is done (live probe), and what it runs.",
    ),
    CommandEntry(
        "release",
        "release",
        "Run the release: version commit, checks beside the builds, then each visible step.",
    ),
    CommandEntry(
        "resume", "release", "Continue the last failed or interrupted release with the same inputs."
    ),
    CommandEntry(
        "rollback",
        "release",
        "Undo the last release's completed steps, newest first; say what cannot be undone.",
    ),
    CommandEntry(
        "status",
        "status",
        "Show the version, what is live on each registry, the last release and what to do next.",
    ),
    CommandEntry(
        "rehearse",
        "sandbox",
        "Rehearse the real release against a throw-away sandbox and clone, then tear down.",
    ),
    CommandEntry("version", "version", "Show the version in every file, or set / sync it."),
    CommandEntry("schema", "version", "Print the JSON Schema of shipit.toml."),
    CommandEntry(
        "tag",
        "release",
        "Only the git part: release commit if versions need it, tag, push (probes first).",
    ),
    CommandEntry(
        "publish",
        "publish",
        "Publish to npm, JSR or PyPI alone: probe first, build if needed, publish once.",
    ),
    CommandEntry(
        "github",
        "github",
        "The GitHub release alone: build binaries if needed, draft, upload, publish.",
    ),
    CommandEntry(
        "build",
        "build",
        "Build and verify binaries into DIR with a part manifest each, for release --parts.",
    ),
    CommandEntry(
        "build-binaries",
        "github",
        "Build and verify the binaries of every target into the release's dist/.",
    ),
    CommandEntry(
        "ci",
        "ci",
        "The GitHub Actions workflow that releases from CI (native builds, one publish).",
    ),
    CommandEntry(
        "sandbox",
        "sandbox",
        "Local registries (npm, PyPI, JSR, GitHub, git) for tests and rehearsals.",
    ),
)

# ---------------------------------------------------------------- reading the command line

_BY_NAME = {
    name: option for option in GLOBAL_OPTIONS for name in (option.long, option.short) if name
}


def early_answer(args: list[str]) -> str | None:
    """``"--help"`` or ``"--version"`` when the command line asks only that of shipit itself
    (global options, no command), else None. Anything unusual (an unknown or combined option,
    a missing value, ``--``) is None too, so the full CLI parses it and says what is wrong."""
    first: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-") or arg == "-":
            return first  # the command: eager --help/--version before it still win
        name, eq, _ = arg.partition("=")
        option = _BY_NAME.get(name)
        if option is None:
            attached = _BY_NAME.get(arg[:2])
            if attached is None or not attached.takes_value or arg.startswith("--"):
                return None
            i += 1  # -CDIR
            continue
        if eq and not (option.takes_value and option.long == name):
            return None
        if option.takes_value and not eq:
            if i + 1 >= len(args):
                return None
            i += 1
        if option.long in ("--help", "--version") and first is None:
            first = option.long
        i += 1
    return first


# ---------------------------------------------------------------- the terminal, as rich sees it


@dataclass(frozen=True)
class Terminal:
    width: int
    styled: bool  # escape codes at all
    colour: bool  # colours too (NO_COLOR keeps bold and dim only)


def _flag(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name))


def terminal(stream: TextIO, env: Mapping[str, str]) -> Terminal:
    """Width and styling of ``stream`` by the rules typer's rich console follows."""
    force: bool | None = None
    if _flag(env, "GITHUB_ACTIONS") or _flag(env, "FORCE_COLOR") or _flag(env, "PY_COLORS"):
        force = True
    if _flag(env, "_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    if force is not None:
        is_terminal = force
    elif env.get("TTY_COMPATIBLE") in ("0", "1"):
        is_terminal = env["TTY_COMPATIBLE"] == "1"
    elif "FORCE_COLOR" in env:
        is_terminal = env["FORCE_COLOR"] != ""
    else:
        try:
            is_terminal = stream.isatty()
        except ValueError:
            is_terminal = False
    dumb = is_terminal and env.get("TERM", "").lower() in ("dumb", "unknown")
    width: int | None = None
    for name in ("TERMINAL_WIDTH", "COLUMNS"):
        value = env.get(name, "")
        if value.isdigit():
            width = int(value)
            break
    if dumb:  # rich answers 80 for a dumb terminal, whatever it is told
        width = 80
    if width is None:
        for fd in (0, 1, 2):
            try:
                width = os.get_terminal_size(fd).columns
                break
            except (AttributeError, ValueError, OSError):
                continue
    return Terminal(
        width=width or 80,
        styled=is_terminal and not dumb,
        colour=is_terminal and not dumb and not _flag(env, "NO_COLOR"),
    )


# ---------------------------------------------------------------- drawing

BOLD, DIM = "1", "2"
OPTION, SWITCH, TYPES, USAGE_STYLE = "1;36", "1;32", "1;33", "1;33"
#: typer's OptionHighlighter, in its order (a later match's style wins)
_HIGHLIGHTS = (
    (re.compile(r"(^|\W)(?P<m>\-\w+)(?![a-zA-Z0-9])"), SWITCH),
    (re.compile(r"(^|\W)(?P<m>\-\-[\w\-]+)(?![a-zA-Z0-9])"), OPTION),
    (re.compile(r"(?P<m>\<[^\>]+\>)"), TYPES),
)


class _Out:
    """Segments written with rich's escape codes (one code per segment, reset after it)."""

    def __init__(self, term: Terminal) -> None:
        self.term = term
        self.parts: list[str] = []

    def seg(self, text: str, style: str = "") -> None:
        if not text:
            return
        if not style or not self.term.styled:
            self.parts.append(text)
            return
        if not self.term.colour:
            style = ";".join(c for c in style.split(";") if c in (BOLD, DIM))
        self.parts.append(f"\x1b[{style}m{text}\x1b[0m")

    def text(self) -> str:
        return "".join(self.parts)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def _highlighted(out: _Out, text: str, base: str = "") -> None:
    """``text`` cut and styled as typer's highlighter does: a segment at every edge of a
    match, each in the style of the last match covering it (``base`` elsewhere)."""
    spans: list[tuple[int, int, str]] = []
    for pattern, style in _HIGHLIGHTS:
        spans += [(*m.span("m"), style) for m in pattern.finditer(text)]
    points = sorted({0, len(text)} | {p for a, b, _ in spans for p in (a, b)})
    for start, end in itertools.pairwise(points):
        style = base
        for a, b, span_style in spans:
            if a <= start and end <= b:
                style = span_style
        out.seg(text[start:end], style)


def _panel_top(out: _Out, title: str, width: int) -> None:
    out.seg("╭─", DIM)
    out.seg(f" {title} ", DIM)
    out.seg("─" * (width - len(title) - 6), DIM)
    out.seg("─╮", DIM)
    out.seg("\n")


def _panel_bottom(out: _Out, width: int) -> None:
    out.seg("╰" + "─" * (width - 2) + "╯", DIM)
    out.seg("\n")


def _row_start(out: _Out) -> None:
    out.seg("│", DIM)
    out.seg(" ")


def _row_end(out: _Out) -> None:
    out.seg(" ")
    out.seg("│", DIM)
    out.seg("\n")


def _options_panel(out: _Out, width: int) -> None:
    inner = width - 4
    long_w = max(len(o.long) for o in GLOBAL_OPTIONS)
    short_w = max(len(o.short) for o in GLOBAL_OPTIONS)
    types_w = max(len(o.metavar) for o in GLOBAL_OPTIONS)
    # typer's six columns (long, short, two empty negative ones, type, help), padding 1
    fixed = (long_w + 1) + (short_w + 2) + 2 + 2 + (types_w + 2)
    help_w = inner - fixed - 1
    _panel_top(out, "Options", width)
    for option in GLOBAL_OPTIONS:
        for n, line in enumerate(_wrap(option.help, help_w)):
            _row_start(out)
            if n == 0:
                _highlighted(out, option.long)
                out.seg(" " * (long_w - len(option.long) + 2))
                out.seg(option.short, SWITCH)
                out.seg(" " * (short_w - len(option.short) + 1 + 4 + 1))
                out.seg(option.metavar.ljust(types_w), TYPES)
            else:
                out.seg(" " * (long_w + 2 + short_w + 6 + types_w))
            out.seg("  " + line.ljust(help_w))
            _row_end(out)
    _panel_bottom(out, width)


def _commands_panel(out: _Out, width: int) -> None:
    inner = width - 4
    name_w = max(len(c.name) for c in COMMANDS)
    help_w = inner - (name_w + 1) - 1
    _panel_top(out, "Commands", width)
    for command in COMMANDS:
        for n, line in enumerate(_wrap(command.summary, help_w)):
            _row_start(out)
            if n == 0:
                out.seg(command.name.ljust(name_w), OPTION)
                out.seg(" ", OPTION)
            else:
                out.seg(" " * (name_w + 1), OPTION)
            out.seg(" ")
            _highlighted(out, line)
            out.seg(" " * (help_w - len(line)))
            _row_end(out)
    _panel_bottom(out, width)


def render(term: Terminal) -> str | None:
    """The text of ``shipit --help`` for this terminal (without the newline click adds after
    it), or None when only typer itself can lay it out."""
    width = term.width
    if width < MIN_WIDTH:
        return None
    out = _Out(term)
    out.seg(" " * width, BOLD)
    out.seg("\n")
    for n, line in enumerate(_wrap("Usage: " + USAGE, width - 2)):
        out.seg(" ", BOLD)
        if n == 0:
            out.seg("Usage: ", USAGE_STYLE)
            line = line[len("Usage: ") :]
            out.seg(line, BOLD)
            out.seg(" " * (width - 2 - len("Usage: ") - len(line)), BOLD)
        else:
            out.seg(line.ljust(width - 2), BOLD)
        out.seg(" ", BOLD)
        out.seg("\n")
    out.seg(" " * width, BOLD)
    out.seg("\n")
    for line in _wrap(SUMMARY, width - 2):
        out.seg(" " + line.ljust(width - 2) + " ")
        out.seg("\n")
    out.seg(" " * width)
    out.seg("\n")
    _options_panel(out, width)
    _commands_panel(out, width)
    return out.text()
