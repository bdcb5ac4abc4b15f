"""Checksum steps: ``checksums`` writes ``SHA256SUMS``; ``checksums:sign`` signs it (GPG/minisign).

``SHA256SUMS`` lists, in the format ``sha256sum -c`` reads (``<hex>  <name>``), every file that
goes on the GitHub release: the binaries or their archives and the configured
``[github] extra-assets``. npm tarballs and Python wheels are not included unless listed there,
because their registries hold their own hashes; the point of this file is that whoever downloads
a release asset can check it. Hashes are computed streaming, in 1 MiB chunks.

Signing keys and passphrases come from environment variables named in
``[binaries.signing]`` (``key-env``, ``password-env``), travel to gpg/minisign on stdin or in a
private temporary file, and are never in argv, logs or the journal. Each signature is verified
with the standard tool right after signing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from shipit import proc
from shipit.engine.step import Context, Evidence, Probe, Progress, Step, Tool, Undo
from shipit.errors import PermanentError, ToolMissingError
from shipit.files import write_text_atomic
from shipit.redact import register
from shipit.steps import binaries

SUMS_ID = "checksums"
SIGN_ID = "checksums:sign"
SUMS_NAME = "SHA256SUMS"
GPG_SIGNATURE = "SHA256SUMS.asc"
MINISIGN_SIGNATURE = "SHA256SUMS.minisig"


def payload(ctx: Context) -> list[Path]:
    """The files SHA256SUMS covers: binaries/archives, then ``[github] extra-assets``."""
    files = list(binaries.artifacts(ctx))
    for item in ctx.config.github.extra_assets:
        path = Path(item.format(version=ctx.version, tag=ctx.tag))
        files.append(path if path.is_absolute() else ctx.root / path)
    return files


def sums_path(ctx: Context) -> Path:
    return ctx.dist_dir / SUMS_NAME


def signature_path(ctx: Context) -> Path | None:
    method = ctx.config.binaries.signing.method
    if method == "gpg":
        return ctx.dist_dir / GPG_SIGNATURE
    if method == "minisign":
        return ctx.dist_dir / MINISIGN_SIGNATURE
    return None


def release_files(ctx: Context) -> list[Path]:
    """Everything the GitHub release carries: payload, SHA256SUMS and its signature."""
    files = payload(ctx)
    if files:
        files.append(sums_path(ctx))
        sig = signature_path(ctx)
        if sig is not None:
            files.append(sig)
    return files


def render(ctx: Context) -> tuple[str, dict[str, str]]:
    """The SHA256SUMS text and the hash of each file (names must be unique)."""
    lines: list[str] = []
    hashes: dict[str, str] = {}
    for path in payload(ctx):
        if not path.exists():
            raise PermanentError(
                f"cannot checksum {path.name}: the file does not exist",
                why=f"expected at {path}",
                hint="build the artifacts first (`shipit release` builds them), "
                "or fix `extra-assets` in [github]",
            )
        if path.name in hashes:
            raise PermanentError(
                f"two release files are both named {path.name}",
                hint="make `name-template` in [binaries] unique per target",
            )
        sha, _ = binaries.sha256_file(path)
        hashes[path.name] = sha
        lines.append(f"{sha}  {path.name}\n")
    return "".join(lines), hashes


class Checksums:
    """Write dist/SHA256SUMS for every release file."""

    id = SUMS_ID
    reversible = True

    def __init__(self, needs: tuple[str, ...]) -> None:
        self.needs = needs

    def describe(self, ctx: Context) -> str:
        names = ", ".join(p.name for p in payload(ctx))
        return f"write {SUMS_NAME} for {names}\nsha256sum -c {SUMS_NAME}  (how users check)"

    def probe(self, ctx: Context) -> Probe:
        path = sums_path(ctx)
        if not path.exists():
            return Probe.todo(f"{SUMS_NAME} not written yet")
        try:
            text, hashes = render(ctx)
        except PermanentError as exc:
            return Probe.todo(exc.what)
        if path.read_text(encoding="utf-8") != text:
            return Probe.todo(f"{SUMS_NAME} is out of date; writing it again")
        return Probe.already_done(self._evidence(path, hashes), why=f"{SUMS_NAME} is up to date")

    @staticmethod
    def _evidence(path: Path, hashes: dict[str, str]) -> Evidence:
        sha, size = binaries.sha256_file(path)
        return {"path": str(path), "sha256": sha, "size": size, "files": hashes}

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        progress.status(f"hashing {len(payload(ctx))} files")
        text, hashes = render(ctx)
        path = sums_path(ctx)
        write_text_atomic(path, text)
        return self._evidence(path, hashes)

    def undo(self, ctx: Context) -> Undo:
        path = sums_path(ctx)
        if path.exists():
            path.unlink()
            return Undo.undone(f"deleted {path.name} (local file)")
        return Undo.nothing()


# ------------------------------------------------------------------ signing


def _secret(ctx: Context, var: str | None) -> str | None:
    """The value of ``var`` (registered as a secret: masked in every output), or None."""
    if not var:
        return None
    value = ctx.env.get(var) or os.environ.get(var)
    if value:
        register(value)
        for line in value.splitlines():
            if len(line.strip()) >= 16:
                register(line.strip())
    return value or None


def _signing_key(ctx: Context, tool: str, *, hint: str) -> tuple[str, str]:
    """(secret key, its password) from the variables [binaries.signing] names."""
    cfg = ctx.config.binaries.signing
    key = _secret(ctx, cfg.key_env)
    if not key:
        raise PermanentError(
            f"no {tool} key to sign SHA256SUMS with",
            why=f"the environment variable {cfg.key_env or '(key-env not set)'} is empty",
            hint=hint,
        )
    return key, _secret(ctx, cfg.password_env) or ""


@contextlib.contextmanager
def _gnupghome() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="shipit-gpg-"))
    os.chmod(home, 0o700)
    try:
        yield home
    finally:
        env = {**os.environ, "GNUPGHOME": str(home)}
        if shutil.which("gpgconf"):
            proc.run(["gpgconf", "--kill", "all"], env=env, timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def _gpg_fail(result: proc.Result, what: str, hint: str) -> PermanentError:
    return PermanentError(what, why=result.tail(8) or f"gpg exited {result.returncode}", hint=hint)


def _fingerprint(gpg: str, env: dict[str, str], secret: bool) -> str | None:
    listing = "--list-secret-keys" if secret else "--list-keys"
    result = proc.run([gpg, "--batch", "--with-colons", listing], env=env, timeout=30)
    for line in result.stdout.splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9]
    return None


def sign_gpg(ctx: Context, sums: Path, signature: Path) -> Evidence:
    """Detached ASCII-armored signature of ``sums``, then ``gpg --verify`` in a clean keyring."""
    cfg = ctx.config.binaries.signing
    gpg = proc.require("gpg", hint="install GnuPG (apt install gnupg, brew install gnupg)")
    key, passphrase = _signing_key(
        ctx,
        "GPG",
        hint="export the armored secret key (gpg --export-secret-keys --armor KEYID) into "
        f"{cfg.key_env or 'an environment variable named by key-env in [binaries.signing]'}",
    )
    tmp_sig = signature.with_name(signature.name + ".tmp")
    with _gnupghome() as home:
        env = {**os.environ, "GNUPGHOME": str(home)}
        if "BEGIN PGP PRIVATE KEY BLOCK" in key:
            result = proc.run([gpg, "--batch", "--import"], env=env, input=key, timeout=60)
            if not result.ok:
                raise _gpg_fail(
                    result,
                    "gpg could not import the signing key",
                    f"check the key in {cfg.key_env}",
                )
            user = _fingerprint(gpg, env, secret=True)
        else:  # a key id from the user's own keyring
            env = {**os.environ}
            user = key.strip()
        if not user:
            raise PermanentError(f"the key in {cfg.key_env} holds no secret key")
        tmp_sig.unlink(missing_ok=True)
        result = proc.run(
            [
                gpg,
                "--batch",
                "--yes",
                "--pinentry-mode",
                "loopback",
                "--passphrase-fd",
                "0",
                "--local-user",
                user,
                "--armor",
                "--detach-sign",
                "--output",
                str(tmp_sig),
                str(sums),
            ],
            env=env,
            input=passphrase + "\n",
            timeout=120,
        )
        if not result.ok:
            tmp_sig.unlink(missing_ok=True)
            raise _gpg_fail(
                result,
                "gpg could not sign SHA256SUMS",
                f"check the passphrase in {cfg.password_env or '(password-env)'} and the key",
            )
        public = proc.run([gpg, "--batch", "--armor", "--export", user], env=env, timeout=30)
    if cfg.public_key:
        public_text = (ctx.root / cfg.public_key).read_text(encoding="utf-8")
    else:
        public_text = public.stdout
    with _gnupghome() as verify_home:
        venv = {**os.environ, "GNUPGHOME": str(verify_home)}
        proc.run([gpg, "--batch", "--import"], env=venv, input=public_text, timeout=60)
        check = proc.run(
            [gpg, "--batch", "--verify", str(tmp_sig), str(sums)], env=venv, timeout=60
        )
    if not check.ok:
        tmp_sig.unlink(missing_ok=True)
        raise _gpg_fail(
            check,
            "the new GPG signature of SHA256SUMS does not verify",
            "check `public-key` in [binaries.signing] matches the signing key",
        )
    os.replace(tmp_sig, signature)
    return {"method": "gpg", "key": user[-16:], "verified": True}


def sign_minisign(ctx: Context, sums: Path, signature: Path) -> Evidence:
    """``minisign -S`` with the secret key in a private temp file, then ``minisign -V``."""
    cfg = ctx.config.binaries.signing
    minisign = proc.which("minisign")
    if not minisign:
        raise ToolMissingError(
            "`minisign` is not installed or not on PATH",
            hint="install minisign (apt install minisign, brew install minisign), "
            'or set method = "gpg" in [binaries.signing]',
        )
    key, password = _signing_key(
        ctx, "minisign", hint="put the secret key file's content into the variable named by key-env"
    )
    if not cfg.public_key:
        raise PermanentError(
            "minisign signing needs a public key to verify the signature",
            hint="set `public-key` in [binaries.signing] to your minisign.pub",
        )
    tmp_sig = signature.with_name(signature.name + ".tmp")
    with tempfile.TemporaryDirectory(prefix="shipit-minisign-") as tmp:
        key_file = Path(tmp) / "minisign.key"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key if key.endswith("\n") else key + "\n")
        argv = [minisign, "-S", "-s", str(key_file), "-m", str(sums), "-x", str(tmp_sig)]
        result = proc.run(argv, input=password + "\n", timeout=60)
    if not result.ok:
        tmp_sig.unlink(missing_ok=True)
        raise PermanentError(
            "minisign could not sign SHA256SUMS",
            why=result.tail(8),
            hint=f"check the key in {cfg.key_env} and the password in {cfg.password_env}",
        )
    pub = ctx.root / cfg.public_key
    check = proc.run(
        [minisign, "-V", "-p", str(pub), "-m", str(sums), "-x", str(tmp_sig)], timeout=60
    )
    if not check.ok:
        tmp_sig.unlink(missing_ok=True)
        raise PermanentError(
            "the new minisign signature of SHA256SUMS does not verify",
            why=check.tail(8),
            hint="check that `public-key` in [binaries.signing] belongs to the secret key",
        )
    os.replace(tmp_sig, signature)
    return {"method": "minisign", "verified": True}


class SignChecksums:
    """A detached signature of SHA256SUMS, verified with the standard tool."""

    id = SIGN_ID
    needs: tuple[str, ...] = (SUMS_ID,)
    reversible = True

    def tools(self, ctx: Context) -> list[Tool]:
        if ctx.config.binaries.signing.method == "gpg":
            return [Tool("gpg", "install GnuPG (apt install gnupg, brew install gnupg)")]
        return [
            Tool(
                "minisign",
                "install minisign (apt install minisign, brew install minisign), "
                'or set method = "gpg" in [binaries.signing]',
            )
        ]

    def describe(self, ctx: Context) -> str:
        sig = signature_path(ctx)
        method = ctx.config.binaries.signing.method
        name = sig.name if sig else "?"
        if method == "gpg":
            cmd = f"gpg --armor --detach-sign --output {name} {SUMS_NAME}; gpg --verify {name}"
        else:
            cmd = f"minisign -S -m {SUMS_NAME}; minisign -V -m {SUMS_NAME}"
        return f"sign {SUMS_NAME} with {method} -> {name}\n{cmd}"

    def probe(self, ctx: Context) -> Probe:
        sig = signature_path(ctx)
        sums = sums_path(ctx)
        if sig is None or not sig.exists() or not sums.exists():
            return Probe.todo("not signed yet")
        recorded = ctx.evidence_of(SIGN_ID).get("sums_sha256")
        current, _ = binaries.sha256_file(sums)
        if recorded != current:
            return Probe.todo(f"{SUMS_NAME} changed or signature unrecorded; signing again")
        return Probe.already_done(
            ctx.evidence_of(SIGN_ID), why=f"{sig.name} signs the current sums"
        )

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        sums = sums_path(ctx)
        sig = signature_path(ctx)
        assert sig is not None
        if not sums.exists():
            raise PermanentError(f"{SUMS_NAME} is missing", hint="run `shipit resume`")
        progress.status(f"signing {SUMS_NAME}")
        if ctx.config.binaries.signing.method == "gpg":
            evidence = sign_gpg(ctx, sums, sig)
        else:
            evidence = sign_minisign(ctx, sums, sig)
        sha, _ = binaries.sha256_file(sums)
        return {**evidence, "path": str(sig), "sums_sha256": sha}

    def undo(self, ctx: Context) -> Undo:
        sig = signature_path(ctx)
        if sig is not None and sig.exists():
            sig.unlink()
            return Undo.undone(f"deleted {sig.name} (local file)")
        return Undo.nothing()


def checksum_steps(ctx: Context) -> list[Step]:
    if not payload(ctx):
        return []
    needs = tuple(
        prefix + b.target for b in binaries.builds(ctx) for prefix in (binaries.VERIFY_PREFIX,)
    )
    steps: list[Step] = [Checksums(needs)]
    if ctx.config.binaries.signing.method != "none":
        steps.append(SignChecksums())
    return steps
