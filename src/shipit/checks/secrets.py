"""The ``secrets`` check: no key, token or ``.env`` file in what is about to be published.

Scans exactly the files each enabled target would publish (see ``artifacts``) with
detect-secrets, plus an explicit rule: a ``.env`` file (``.env``, ``.env.production``, ...;
not ``.env.example``) must never be published, whatever it holds. Findings name the file and
line, never the secret.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from shipit.checks.artifacts import PublishSet
from shipit.checks.base import CheckContext, CheckResult, Finding, Status, skipped
from shipit.checks.command import append_log, start_log

NAME = "secrets"
TARGETS = ("npm", "jsr", "pypi", "binaries")
ENV_TEMPLATES = (".example", ".sample", ".template", ".dist", ".defaults")
MAX_FILE_BYTES = 2_000_000
SHIPIT_DIR = ".shipit"

_scan_lock = threading.Lock()  # detect-secrets' settings are process-global


def is_env_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    if base != ".env" and not base.startswith(".env."):
        return False
    return not base.endswith(ENV_TEMPLATES)


def _env_first_value_line(text: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith("#") and "=" in s and s.split("=", 1)[1].strip():
            return i
    return None


def scan(files: list[tuple[str, Path]]) -> list[tuple[str, int, str]]:
    """detect-secrets over ``files`` (display name, path): (name, line, secret type)."""
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    by_path = {str(p): name for name, p in files}
    found: list[tuple[str, int, str]] = []
    with _scan_lock, default_settings():
        collection = SecretsCollection()
        for _, path in files:
            collection.scan_file(str(path))
        for filename, secrets in collection.data.items():
            for secret in secrets:
                found.append(
                    (by_path.get(filename, filename), int(secret.line_number), str(secret.type))
                )
    return sorted(set(found))


class SecretsCheck:
    name = NAME
    heavy = False

    def run(self, ctx: CheckContext) -> CheckResult:
        targets = [t for t in ctx.project.enabled_targets if t.name in TARGETS]
        if not targets or ctx.publish_sets is None:
            return skipped(NAME, "nothing is published from this project")
        log = start_log(ctx, NAME)
        findings: list[Finding] = []
        errors: list[Finding] = []
        scanned = 0
        seen: set[tuple[str, int | None, str]] = set()
        for target in targets:
            pset: PublishSet = ctx.publish_sets.get(target.name, target.directory or ctx.root)
            if pset.error:
                errors.append(
                    Finding(
                        f"cannot list the {target.name} files: {pset.error}",
                        hint="fix the package manifest, then shipit check --only secrets",
                    )
                )
                continue
            append_log(log, f"{target.name}: {pset.description}:")
            packaged = target.name != "binaries"  # binaries live in .shipit/releases/*/dist
            own = sorted(n for n, _ in pset.files if packaged and n.split("/", 1)[0] == SHIPIT_DIR)
            if own:
                findings.append(
                    Finding(
                        f"shipit's own files ({SHIPIT_DIR}/: logs, release journals, built "
                        f"artifacts) would be published to {target.name}",
                        file=own[0],
                        hint=_exclude_hint(target.name, f"{SHIPIT_DIR}/")
                        + f" (or add {SHIPIT_DIR}/ to .gitignore)",
                    )
                )
            files: list[tuple[str, Path]] = []
            with tempfile.TemporaryDirectory(prefix="shipit-secrets-") as tmp:
                for name, path in pset.files:
                    if path is None or not path.is_file():
                        continue
                    if packaged and name.startswith(SHIPIT_DIR + "/"):
                        continue
                    if path.stat().st_size > MAX_FILE_BYTES:
                        continue
                    files.append((name, path))
                for i, (name, data) in enumerate(pset.contents):
                    extracted = Path(tmp) / f"{i}-{Path(name).name}"
                    extracted.write_bytes(data)
                    files.append((name, extracted))
                append_log(log, "\n".join(f"  {n}" for n, _ in files))
                scanned += len(files)
                for name, path in files:
                    if is_env_file(name):
                        try:
                            text = path.read_text(encoding="utf-8", errors="replace")
                        except OSError:
                            text = ""
                        if (name, None, ".env") not in seen:
                            seen.add((name, None, ".env"))
                            findings.append(
                                Finding(
                                    f"{name} is an environment file and would be published "
                                    f"to {target.name}",
                                    file=name,
                                    line=_env_first_value_line(text),
                                    hint=_exclude_hint(target.name, name),
                                )
                            )
                for name, line, kind in scan(files):
                    if (name, line, kind) in seen:
                        continue
                    seen.add((name, line, kind))
                    findings.append(
                        Finding(
                            f"possible secret ({kind}) in {name}:{line}, published to "
                            f"{target.name}",
                            file=name,
                            line=line,
                            hint=_secret_hint(target.name, name),
                        )
                    )
        if findings:
            n = len(findings)
            return CheckResult(
                NAME,
                Status.FAILED,
                f"{n} secret{'s' if n != 1 else ''} in files about to be published",
                tuple(findings + errors),
                log_path=log,
            )
        if errors:
            return CheckResult(NAME, Status.ERROR, errors[0].message, tuple(errors), log_path=log)
        names = ", ".join(t.name for t in targets)
        return CheckResult(NAME, Status.PASSED, f"no secrets in {scanned} file(s) for {names}")


def _exclude_hint(target: str, name: str) -> str:
    base = name.split("!")[-1]
    if target == "npm":
        return f"remove {base} from the package: add it to .npmignore (or `files` in package.json)"
    if target == "jsr":
        return f'remove {base} from the package: add it to "publish": {{"exclude": [...]}}'
    if target == "pypi":
        return f"add {base} to .gitignore (and delete it from the build)"
    return f"remove {base} from the release directory"


def _secret_hint(target: str, name: str) -> str:
    return (
        "remove the secret (load it from the environment instead) and revoke it if it was "
        "ever pushed; or " + _exclude_hint(target, name)
    )
