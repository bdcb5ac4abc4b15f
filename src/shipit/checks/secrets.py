"""The ``secrets`` check: no key, token or ``.env`` file in what is about to be published.

Scans exactly the files each enabled target publishes (``artifacts``: npm pack after the
build, deno publish --dry-run, the built sdist and wheel) with detect-secrets, plus one rule:
a ``.env`` file (``.env``, ``.env.production``; not ``.env.example``) is never published.
Binaries exist only once the release built them: the check says so, and the release calls
``scan_release_files`` on its archives before anything is visible.

What maintainers already use to say "not a secret" is honoured: detect-secrets'
``.secrets.baseline`` (by file and hashed secret), ``pragma: allowlist secret`` on the line,
and ``[checks.secrets] exclude`` globs. A 40-hex commit hash (CITATION.cff, lockfiles) and a
base64 string that decodes to text (a test vector) are not secrets. Findings name the file and
line, never the secret, and the fix fits the case: take the file out of the package the way
its target selects files, or allowlist it.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shipit.archives import contents as archive_contents
from shipit.checks.base import CheckContext, CheckResult, Finding, Kind, Status, skipped
from shipit.checks.command import append_log, start_log
from shipit.config import Config
from shipit.project.model import Target

NAME = "secrets"
TARGETS = ("npm", "jsr", "pypi", "binaries")
ENV_TEMPLATES = (".example", ".sample", ".template", ".dist", ".defaults")
MAX_FILE_BYTES = 2_000_000
SHIPIT_DIR = ".shipit"
BASELINE = ".secrets.baseline"
_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")

_scan_lock = threading.Lock()  # detect-secrets' settings are process-global


@dataclass(frozen=True)
class Hit:
    """One detect-secrets result: where, what kind, and its hash (never the value)."""

    name: str
    line: int
    kind: str
    hashed: str


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


def not_a_secret(kind: str, value: str | None) -> bool:
    """A commit hash or a base64 string that decodes to text: high entropy, not a key."""
    if value is None:
        return False
    if kind == "Hex High Entropy String" and _COMMIT_SHA.match(value.lower()):
        return True
    if kind == "Base64 High Entropy String":
        try:
            raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=False)
        except (binascii.Error, ValueError):
            return False
        printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
        return len(raw) >= 8 and printable / len(raw) >= 0.95
    return False


def scan(files: Sequence[tuple[str, Path]]) -> list[Hit]:
    """detect-secrets over ``files`` (display name, path), commit hashes and text-decoding
    base64 left out; ``pragma: allowlist secret`` lines are skipped by detect-secrets."""
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    by_path = {str(p): name for name, p in files}
    found: set[Hit] = set()
    with _scan_lock, default_settings():
        collection = SecretsCollection()
        for _, path in files:
            collection.scan_file(str(path))
        for filename, secrets in collection.data.items():
            for secret in secrets:
                if not_a_secret(str(secret.type), secret.secret_value):
                    continue
                found.add(
                    Hit(
                        by_path.get(filename, filename),
                        int(secret.line_number or 0),
                        str(secret.type),
                        str(secret.secret_hash),
                    )
                )
    return sorted(found, key=lambda h: (h.name, h.line, h.kind))


def _source_name(name: str) -> str:
    """The project path of a published file: ``pkg-1.0.tar.gz!pkg-1.0/src/a.py`` -> ``src/a.py``."""
    if "!" not in name:
        return name
    archive, inner = name.split("!", 1)
    if archive.endswith((".tar.gz", ".tgz")) and "/" in inner:
        inner = inner.split("/", 1)[1]  # the sdist's top directory
    return inner


def load_baseline(root: Path) -> dict[str, set[str]]:
    """``.secrets.baseline``: file -> hashed secrets the maintainers marked as not secret."""
    path = root / BASELINE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    results = data.get("results") if isinstance(data, dict) else None
    out: dict[str, set[str]] = {}
    for file, entries in (results or {}).items():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and entry.get("hashed_secret"):
                if entry.get("is_secret") is True:
                    continue  # audited as a real secret: still reported
                out.setdefault(str(file), set()).add(str(entry["hashed_secret"]))
    return out


def excluded(name: str, patterns: Sequence[str]) -> bool:
    source = _source_name(name)
    return any(
        fnmatch.fnmatchcase(source, p) or fnmatch.fnmatchcase(source, p.rstrip("/") + "/*")
        for p in patterns
    )


def findings_for(
    target: str,
    files: Sequence[tuple[str, Path]],
    root: Path,
    config: Config,
    baseline: dict[str, set[str]] | None = None,
) -> list[Finding]:
    """Every .env file and secret in ``files`` (already on disk) published to ``target``."""
    patterns = config.checks.secrets.exclude
    allowed = load_baseline(root) if baseline is None else baseline
    chosen = [(n, p) for n, p in files if not excluded(n, patterns)]
    out: list[Finding] = []
    for name, path in chosen:
        if is_env_file(name):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            out.append(
                Finding(
                    f"{name} is an environment file and would be published to {target}",
                    file=name,
                    line=_env_first_value_line(text),
                    hint=exclude_hint(target, _source_name(name), root),
                    kind=Kind.SECRET,
                )
            )
    for hit in scan(chosen):
        if hit.hashed in allowed.get(_source_name(hit.name), set()):
            continue
        out.append(
            Finding(
                f"possible secret ({hit.kind}) in {hit.name}:{hit.line}, published to {target}",
                file=hit.name,
                line=hit.line,
                hint=secret_hint(target, _source_name(hit.name), root),
                kind=Kind.SECRET,
            )
        )
    return out


def scan_release_files(
    archives: Sequence[Path], root: Path, config: Config, target: str = "binaries"
) -> list[Finding]:
    """The release's scan of what it built (binary archives, the npm tarball, the wheel and
    sdist), to run before anything is visible: a finding stops the release."""
    with tempfile.TemporaryDirectory(prefix="shipit-secrets-") as tmp:
        files: list[tuple[str, Path]] = []
        for archive in archives:
            members = archive_contents(archive) if archive.is_file() else []
            for i, (name, data) in enumerate(members):
                if b"\0" in data[:4096]:
                    continue  # a program, not text
                extracted = Path(tmp) / f"{len(files)}-{i}-{Path(name).name}"
                extracted.write_bytes(data)
                files.append((name, extracted))
        return findings_for(target, files, root, config)


class SecretsCheck:
    name = NAME
    heavy = False

    def run(self, ctx: CheckContext) -> CheckResult:
        targets = [t for t in ctx.project.enabled_targets if t.name in TARGETS]
        if ctx.config.binaries.enabled and not any(t.name == "binaries" for t in targets):
            targets.append(Target("binaries", True, "binaries.enabled in the configuration"))
        if not targets or ctx.publish_sets is None:
            return skipped(NAME, "nothing is published from this project")
        log = start_log(ctx, NAME)
        findings: list[Finding] = []
        errors: list[Finding] = []
        later = [t.name for t in targets if t.name in ctx.scanned_when_built]
        targets = [t for t in targets if t.name not in ctx.scanned_when_built]
        scanned: list[str] = []
        seen: set[tuple[str, int | None, str]] = set()
        baseline = load_baseline(ctx.root)
        sets = ctx.publish_sets.get_many([(t.name, t.directory or ctx.root) for t in targets])
        for target, pset in zip(targets, sets, strict=True):
            if pset.deferred:
                later.append(target.name)
                append_log(log, f"{target.name}: {pset.deferred}")
                continue
            if pset.error:
                errors.append(
                    Finding(
                        f"cannot list the {target.name} files: {pset.error}",
                        hint=pset.hint
                        or "fix the package manifest, then shipit check --only secrets",
                    )
                )
                errors.extend(pset.problems)  # the build's errors, where they are
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
                        hint=exclude_hint(target.name, f"{SHIPIT_DIR}/", ctx.root)
                        + f" (or add {SHIPIT_DIR}/ to .gitignore: git does not track it)",
                    )
                )
            with tempfile.TemporaryDirectory(prefix="shipit-secrets-") as tmp:
                files: list[tuple[str, Path]] = []
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
                scanned.append(f"{len(files)} {target.name} file{'s' if len(files) != 1 else ''}")
                for f in findings_for(target.name, files, ctx.root, ctx.config, baseline):
                    key = (f.file or "", f.line, f.message.split(",")[0])
                    if key not in seen:
                        seen.add(key)
                        findings.append(f)
        deferred = f"; {', '.join(later)}: scanned by the release once built" if later else ""
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
        if not scanned:
            return skipped(NAME, f"{', '.join(later)}: scanned by the release once built")
        return CheckResult(NAME, Status.PASSED, f"no secrets in {', '.join(scanned)}{deferred}")


def _pypi_backend(root: Path) -> str:
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return ""
    m = re.search(r'build-backend\s*=\s*"([^"]+)"', text)
    return m.group(1) if m else ""


def exclude_hint(target: str, name: str, root: Path) -> str:
    """How to take ``name`` out of what ``target`` publishes (never .gitignore for a file git
    already tracks: that does not untrack it)."""
    if target == "npm":
        return (
            f"take {name} out of the npm package: leave it out of `files` in package.json "
            "(or add it to .npmignore)"
        )
    if target == "jsr":
        return (
            f'take {name} out of the JSR package: "publish": {{"exclude": ["{name}"]}} in deno.json'
        )
    if target == "pypi":
        backend = _pypi_backend(root)
        if backend.startswith("hatchling"):
            return (
                f'take {name} out of the sdist and wheel: [tool.hatch.build] exclude = ["{name}"]'
            )
        manifest = root / "MANIFEST.in"
        listed = manifest.is_file() and name in manifest.read_text(encoding="utf-8")
        if listed:
            return f"take {name} out of the sdist: remove its line from MANIFEST.in"
        return f"take {name} out of the sdist: add `exclude {name}` to MANIFEST.in"
    return f"take {name} out of the release archives"


def secret_hint(target: str, name: str, root: Path) -> str:
    return (
        "if it is a secret: remove it, load it from the environment, and revoke it if it was "
        f"ever pushed; or {exclude_hint(target, name, root)}. If it is not a secret: add "
        "`pragma: allowlist secret` in a comment on that line, record it in .secrets.baseline "
        "(detect-secrets scan > .secrets.baseline), or list the file in "
        "[checks.secrets] exclude"
    )
