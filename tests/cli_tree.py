"""The real shipit command tree, for tests that check a command named in a message exists:
parse words as click would before running anything, and tell where prose starts."""

from __future__ import annotations

from typing import Any


def command_tree() -> Any:
    from shipit import cli

    root = cli.typer.main.get_command(cli.app)
    for name in cli.COMMAND_MODULES:
        root.get_command(None, name)  # type: ignore[attr-defined]
    return root


def prose_cut(words: list[str], root: Any) -> list[str]:
    """Outside backticks, a word after a group that is not one of its subcommands is prose
    (``point shipit at the project``): the command ends before it."""
    command = root
    for i, word in enumerate(words):
        if word.startswith("-"):
            continue
        subs = getattr(command, "commands", None)
        if not subs:
            return words
        if word not in subs:
            return words[:i]
        command = subs[word]
    return words


def cli_accepts(words: list[str]) -> tuple[bool, str]:
    """Parse ``words`` with the real command tree as click would before running the command
    (options, their values and callbacks, arguments, no extra word): runs nothing. Words after
    the command that it takes for no argument are prose (``--version 9.9.9 to write ...``)
    and are cut, never an option."""
    root = command_tree()
    ok, why = _parses(root, words)
    if ok:
        return ok, why
    for end in range(len(words) - 1, 0, -1):
        if words[end].startswith("-"):
            break
        leaf = _leaf_of(root, words[:end])
        if leaf is not None and not _is_group(leaf) and _parses(root, words[:end])[0]:
            return True, ""
    return ok, why


def _is_group(command: Any) -> bool:
    return hasattr(command, "resolve_command")  # typer carries its own copy of click


def _leaf_of(root: Any, words: list[str]) -> Any:
    command = root
    for word in words:
        subs = getattr(command, "commands", None)
        if subs and word in subs:
            command = subs[word]
        elif subs and not word.startswith("-"):
            return None
    return command


def _parses(root: Any, words: list[str]) -> tuple[bool, str]:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            ctx = root.make_context("shipit", list(words))
            command = root
            while _is_group(command):
                rest = [*ctx._protected_args, *ctx.args]
                if not rest:
                    break
                name, sub, args = command.resolve_command(ctx, rest)
                assert sub is not None and name is not None
                ctx = sub.make_context(name, args, parent=ctx)
                command = sub
        except Exception as exc:  # no such command or option, a bad value, an extra word
            if type(exc).__name__ == "Exit":  # --help, --version: click's way to stop early
                return getattr(exc, "exit_code", 1) == 0, ""
            return False, f"{type(exc).__name__}: {exc}"
    return True, ""
