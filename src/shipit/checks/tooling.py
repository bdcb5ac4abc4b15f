"""The checks that run the project's tools (typecheck, lint, test, security) and their driver.

``run_commands`` asks first whether the dependencies are installed (a Node command is not
started when node_modules is missing or stale: the finding says which install command to
type), runs each planned command within the check's time, keeps the full output in the
check's log and reads it with ``output.parse``. A program that is not there, or a script's
exit 127 (``sh: 1: xo: not found``), is reported by the missing program's name with the
command that installs it. ``ToolCheck`` is the typecheck and lint check: one class, its name
picks the preset.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shipit import proc
from shipit.checks import deps, output, presets
from shipit.checks.base import CheckContext, CheckResult, Finding, Kind, Status, skipped
from shipit.checks.command import Command, run_logged, start_log
from shipit.errors import ToolMissingError

NODE_RUNNERS = ("npm", "pnpm", "yarn", "npx", "node", "tsc")
_NOT_FOUND = re.compile(
    r"^(?:/bin/)?(?:sh|bash|dash|zsh)?:?\s*(?:\d+:\s*)?(?:line \d+:\s*)?([\w@./+-]+): "
    r"(?:command )?not found\s*$",
    re.MULTILINE,
)
NOUNS = {
    Kind.TYPE: "type error",
    Kind.LINT: "lint problem",
    Kind.FORMAT: "unformatted file",
    Kind.TEST: "failing test",
    Kind.DEPENDENCY: "dependency problem",
    Kind.ERROR: "error",
}


@dataclass
class Outcome:
    """What running a check's commands produced, before the verdict."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    results: list[tuple[Command, proc.Result]] = field(default_factory=list)
    failed_commands: list[str] = field(default_factory=list)
    unstructured: list[str] = field(default_factory=list)  # failures told by exit code only


def missing_program(result: proc.Result) -> str | None:
    """The program a shell could not find (exit 127), from its ``not found`` line."""
    if result.returncode != 127:
        return None
    m = _NOT_FOUND.search(result.stderr) or _NOT_FOUND.search(result.stdout)
    return m.group(1) if m else None


def uses_node(cmd: Command) -> bool:
    """True for a command that runs the project's Node code or tools (so it needs
    node_modules); ``npm audit`` reads only the lockfile."""
    if not cmd.argv:
        return False
    program = Path(cmd.argv[0]).name
    if "node_modules" in cmd.argv[0] or program in ("node", "npx", "tsc"):
        return True
    return program in NODE_RUNNERS and len(cmd.argv) > 1 and cmd.argv[1] in ("test", "run", "exec")


def _with_fix(finding: Finding, ctx: CheckContext, cmd: Command) -> Finding:
    """Dependency problems get the command that installs the dependencies."""
    if finding.kind != Kind.DEPENDENCY or finding.hint:
        return finding
    name = Path(cmd.argv[0]).name if cmd.argv else ""
    if name == "deno":
        fix = "run `deno install` (it caches every dependency deno.json and deno.lock name)"
    elif uses_node(cmd):
        fix = f"run `{deps.install_command(ctx.root)}`"
    else:
        fix = "install the project's dependencies"
    return Finding(finding.message, finding.file, finding.line, fix, finding.kind)


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
    eco = ctx.project.ecosystems
    missing_deps = deps.node_dependencies(ctx.root) if "node" in eco else None
    runnable: list[Command] = []
    for cmd in commands:
        if missing_deps is not None and uses_node(cmd):
            if missing_deps not in out.errors:
                out.errors.append(missing_deps)
            continue
        runnable.append(cmd)

    def one(cmd: Command) -> proc.Result | None:
        with ctx.slot():
            try:
                return run_logged(ctx, cmd, log)
            except ToolMissingError:
                return None

    if len(runnable) > 1:  # one command per ecosystem: they may overlap
        with ThreadPoolExecutor(max_workers=len(runnable)) as pool:
            ran = list(pool.map(proc.same_priority(one), runnable))
    else:
        ran = [one(cmd) for cmd in runnable]
    for cmd, maybe in zip(runnable, ran, strict=True):
        program = Path(cmd.argv[0]).name if cmd.argv else "?"
        if maybe is None:
            out.errors.append(
                Finding(
                    f"`{program}` is not installed (needed for `{cmd.display}`)",
                    hint=deps.install_hint(program, ctx.root, eco)
                    + f", or set checks.{name}.command",
                    kind=Kind.DEPENDENCY,
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
        absent = missing_program(result)
        if absent is not None:
            out.errors.append(
                Finding(
                    f"`{absent}` is not installed (`{cmd.display}` runs it)",
                    hint=deps.install_hint(absent, ctx.root, eco),
                    kind=Kind.DEPENDENCY,
                )
            )
            continue
        if on_result is not None and on_result(cmd, result, out):
            continue
        if not result.ok:
            out.failed_commands.append(cmd.display)
            parsed = output.parse(result.output, ctx.root, cmd.parser)
            found = [_with_fix(f, ctx, cmd) for f in parsed.findings]
            if not parsed.structured:
                out.unstructured.append(f"`{cmd.display}` exited with {result.returncode}")
            if not found:
                found = [Finding(f"`{cmd.display}` exited with {result.returncode}")]
            if any(f.kind == Kind.DEPENDENCY for f in found) and all(
                f.kind in (Kind.DEPENDENCY, Kind.ERROR) for f in found
            ):
                out.errors.extend(found)  # not the project's problem: the set-up's
            else:
                out.findings.extend(found)
    return out


def count_summary(findings: list[Finding], noun: str) -> str:
    """``2 lint problems, 1 failing test`` (findings without a kind count as ``noun``)."""
    counts = Counter(
        NOUNS.get(Kind(f.kind), noun) if f.kind else noun for f in findings if f.kind != Kind.OUTPUT
    )
    parts = [f"{n} {what}{'s' if n != 1 else ''}" for what, n in counts.items()]
    return ", ".join(parts)


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
        findings = [_hinted(f, name, noun, fail_hint) for f in out.findings]
        summary = count_summary(findings, noun)
        if out.failed_commands:
            summary += f" from `{out.failed_commands[0]}`"
        if out.unstructured and len(out.unstructured) == len(out.failed_commands):
            summary = "; ".join(out.unstructured) + " (its first lines below)"
        return CheckResult(name, Status.FAILED, summary, tuple(findings + out.errors), log_path=log)
    if out.errors:
        return CheckResult(
            name, Status.ERROR, out.errors[0].message, tuple(out.errors), log_path=log
        )
    return CheckResult(name, Status.PASSED, ok_summary)


def _hinted(f: Finding, check: str, noun: str, fail_hint: str | None) -> Finding:
    """A finding with the fix for its kind (the check's own hint for its own kind)."""
    if f.hint or f.kind == Kind.OUTPUT:
        return f
    what = NOUNS.get(Kind(f.kind), noun) if f.kind else noun
    hint = (
        fail_hint
        if what == noun and fail_hint
        else (f"fix the {what} shown, then shipit check --only {check}")
    )
    return Finding(f.message, f.file, f.line, hint, f.kind)


def no_commands(name: str, reason: str) -> CheckResult:
    return skipped(name, reason)


class ToolCheck:
    """The ``typecheck`` and ``lint`` checks: run what the preset plans, read the output."""

    heavy = True

    def __init__(self, name: str, noun: str) -> None:
        self.name = name
        self.noun = noun

    def plan(self, ctx: CheckContext) -> presets.Plan:
        return presets.plan(ctx, self.name)

    def run(self, ctx: CheckContext) -> CheckResult:
        planned = self.plan(ctx)
        if not planned.commands:
            return no_commands(self.name, planned.reason)
        out = run_commands(ctx, self.name, planned.commands)
        shown = ", ".join(c.display for c in planned.commands)
        return verdict(
            ctx,
            self.name,
            out,
            noun=self.noun,
            ok_summary=f"no {self.noun}s ({shown})",
            fail_hint=f"fix the {self.noun} shown, then shipit check --only {self.name}",
        )


def typecheck_check() -> ToolCheck:
    return ToolCheck("typecheck", "type error")


def lint_check() -> ToolCheck:
    return ToolCheck("lint", "lint problem")
