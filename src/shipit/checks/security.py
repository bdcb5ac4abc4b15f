"""The ``security`` check: a vulnerability scanner's findings at or above a severity.

Runs ``npm audit --json``, ``pip-audit -f json`` or the configured command (anything that
prints npm-audit JSON, pip-audit JSON or SARIF) and fails on findings at or above
``checks.security.severity``. A scanner that cannot reach its database, or prints nothing we
can read, is an ``error``, never a pass.
"""

from __future__ import annotations

from shipit import proc
from shipit.checks import presets, tooling
from shipit.checks.audit import (
    AuditFormatError,
    ScannerUnavailable,
    Vulnerability,
    looks_offline,
    parse_audit,
    rank,
)
from shipit.checks.base import CheckContext, CheckResult, Finding, Status
from shipit.checks.command import Command

NAME = "security"


def _finding(v: Vulnerability) -> Finding:
    ident = f" [{v.id}]" if v.id else ""
    return Finding(
        f"{v.severity} severity: {v.package}: {v.title}{ident}",
        file=v.file,
        line=v.line,
        hint=v.fix or f"upgrade {v.package.split('@')[0].split('==')[0]} to a fixed version",
    )


class SecurityCheck:
    name = NAME
    heavy = False

    def plan(self, ctx: CheckContext) -> presets.Plan:
        return presets.plan(ctx, NAME)

    def run(self, ctx: CheckContext) -> CheckResult:
        planned = presets.plan(ctx, NAME)
        commands = planned.commands
        if not commands:
            if planned.nothing_to_scan and not planned.skipped:
                return CheckResult(
                    NAME,
                    Status.PASSED,
                    "nothing to audit: " + "; ".join(planned.nothing_to_scan),
                )
            return tooling.no_commands(NAME, planned.reason)
        threshold = ctx.config.checks.security.severity
        below: list[Vulnerability] = []
        scanned: list[str] = []

        def judge(cmd: Command, result: proc.Result, out: tooling.Outcome) -> bool:
            try:
                fmt, vulns = parse_audit(result.stdout or result.output)
            except ScannerUnavailable as exc:
                out.errors.append(self._unavailable(cmd, str(exc)))
                return True
            except AuditFormatError as exc:
                if looks_offline(result.output):
                    out.errors.append(self._unavailable(cmd, result.tail(3)))
                else:
                    out.errors.append(
                        Finding(
                            f"`{cmd.display}` printed no report shipit can read ({exc}; "
                            f"exit {result.returncode})",
                            hint="make the command print npm audit JSON, pip-audit JSON or "
                            "SARIF on stdout (checks.security.command)",
                        )
                    )
                return True
            scanned.append(f"{cmd.display} ({fmt})")
            for v in vulns:
                if v.at_least(threshold):
                    out.findings.append(_finding(v))
                else:
                    below.append(v)
            return True

        out = tooling.run_commands(ctx, NAME, commands, on_result=judge)
        log = ctx.log_file(NAME)
        if out.findings:
            out.findings.sort(key=lambda f: -rank(f.message.split(" ", 1)[0]))
            n = len(out.findings)
            return CheckResult(
                NAME,
                Status.FAILED,
                f"{n} vulnerabilit{'y' if n == 1 else 'ies'} at or above {threshold} severity",
                tuple(out.findings + out.errors),
                log_path=log,
            )
        if out.errors:
            return CheckResult(
                NAME, Status.ERROR, out.errors[0].message, tuple(out.errors), log_path=log
            )
        extra = f" ({len(below)} below {threshold})" if below else ""
        return CheckResult(
            NAME,
            Status.PASSED,
            f"no vulnerabilities at or above {threshold}{extra}: {', '.join(scanned)}",
        )

    @staticmethod
    def _unavailable(cmd: Command, detail: str) -> Finding:
        return Finding(
            f"`{cmd.display}` could not reach its vulnerability database: {detail}".strip(),
            hint="check the network (or the scanner's registry/mirror settings) and run "
            "shipit check --only security again; this is not a pass",
        )
