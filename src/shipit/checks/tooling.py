"""Shared driver of the checks that run external tools (typecheck, lint, test, security).

Runs each command in turn within the check's time, keeps the full output in the check's log,
and turns the outcome into a result: passed, failed (with the parsed relevant lines),
error (tool missing, timed out), or skipped (nothing to run).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shipit import proc
from shipit.checks import output
from shipit.checks.base import CheckContext, CheckResult, Finding, Status, skipped
from shipit.checks.command import Command, run_logged, start_log
from shipit.errors import ToolMissingError


@dataclass
class Outcome:
    """What running a check's commands produced, before the verdict."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    results: list[tuple[Command, proc.Result]] = field(default_factory=list)
    failed_commands: list[str] = field(default_factory=list)
    unstructured: list[str] = field(default_factory=list)  # failures told by exit code only


def run_commands(
    ctx: CheckContext,
    name: str,
    commands: list[Command],
    *,
    on_result: Callable[[Command, proc.Result, Outcome], bool] | None = None,
) -> Outcome:
    """Run ``commands``; ``on_result`` may take over judging a result (return True)."""
    log = start_log(ctx, name)
    out = Outcome()

    def one(cmd: Command) -> proc.Result | None:
        with ctx.slot():
            try:
                return run_logged(ctx, cmd, log)
            except ToolMissingError:
                return None

    if len(commands) > 1:  # one command per ecosystem: they may overlap
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            ran = list(pool.map(one, commands))
    else:
        ran = [one(cmd) for cmd in commands]
    for cmd, maybe in zip(commands, ran, strict=True):
        if maybe is None:
            out.errors.append(
                Finding(
                    f"`{Path(cmd.argv[0]).name}` is not installed or not on PATH",
                    hint=f"install it, or set checks.{name}.command (or enabled = false)",
                )
            )
            continue
        result = maybe
        out.results.append((cmd, result))
        if result.timed_out:
            out.errors.append(
                Finding(
                    f"`{cmd.display}` timed out after {ctx.timeout:.0f}s",
                    hint=f"raise checks.{name}.timeout in shipit.toml, or make it faster",
                )
            )
            continue
        if result.returncode == 127 and "not found" in result.stderr:
            out.errors.append(
                Finding(
                    f"`{cmd.display}`: command not found",
                    hint=f"install the tool, or fix checks.{name}.command",
                )
            )
            continue
        if on_result is not None and on_result(cmd, result, out):
            continue
        if not result.ok:
            out.failed_commands.append(cmd.display)
            found, structured = output.parse_detailed(cmd.parser, result.output, ctx.root)
            if not structured:
                out.unstructured.append(f"`{cmd.display}` exited with {result.returncode}")
            if not found:
                found = [Finding(f"`{cmd.display}` exited with {result.returncode}")]
            out.findings.extend(found)
    return out


def verdict(
    ctx: CheckContext,
    name: str,
    out: Outcome,
    *,
    noun: str,
    ok_summary: str,
    fail_hint: str | None = None,
) -> CheckResult:
    """passed / failed (N <noun>s) / error, with the log path on anything but a pass."""
    log = ctx.log_file(name)
    if out.findings:
        findings = [
            f if f.hint or not fail_hint else Finding(f.message, f.file, f.line, fail_hint)
            for f in out.findings
        ]
        count = len(findings)
        summary = f"{count} {noun}{'s' if count != 1 else ''}"
        if out.failed_commands:
            summary += f" from `{out.failed_commands[0]}`"
        if out.unstructured and len(out.unstructured) == len(out.failed_commands):
            summary = "; ".join(out.unstructured)  # lines picked from unknown output
        return CheckResult(name, Status.FAILED, summary, tuple(findings + out.errors), log_path=log)
    if out.errors:
        return CheckResult(
            name, Status.ERROR, out.errors[0].message, tuple(out.errors), log_path=log
        )
    return CheckResult(name, Status.PASSED, ok_summary)


def no_commands(name: str, reason: str) -> CheckResult:
    return skipped(name, reason)
