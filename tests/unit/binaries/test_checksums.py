"""checksums: SHA256SUMS checked by real coreutils; GPG signature verified by real gpg."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from binhelp import VERSION, Built, make_ctx

from shipit.engine.step import NullProgress, ProbeState
from shipit.errors import PermanentError
from shipit.steps import checksums

PASSPHRASE = "correct horse battery staple"


def _ctx_with(
    zig_built: Built, signing: dict[str, str] | None = None, env: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    cfg = dict(zig_built.ctx.config.binaries.model_dump(by_alias=True))
    cfg.pop("signing")
    if signing:
        cfg["signing"] = signing
    return make_ctx(zig_built.root, cfg, evidence=zig_built.evidence, env=env)


def test_sha256sum_accepts_the_file(zig_built: Built) -> None:
    ctx = _ctx_with(zig_built)
    [sums] = [s for s in checksums.checksum_steps(ctx)]
    evidence = sums.run(ctx, NullProgress())
    path = ctx.dist_dir / "SHA256SUMS"
    lines = path.read_text().splitlines()
    assert len(lines) == 5
    assert all(line.split("  ")[1].startswith(f"hello-{VERSION}-") for line in lines)
    assert (
        evidence["files"][f"hello-{VERSION}-x86_64-windows-gnu.exe"]
        == (zig_built.evidence["binaries:build:x86_64-windows-gnu"]["sha256"])
    )
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=ctx.dist_dir, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 5
    assert sums.probe(ctx).state is ProbeState.ALREADY_DONE


def test_tampered_artifact_makes_sums_stale_and_sha256sum_fail(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    ctx = make_ctx(root, {"enabled": False}, extra={"github": {"extra-assets": ["a.bin", "b.txt"]}})
    (root / "a.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "b.txt").write_text("hello\n")
    step = checksums.checksum_steps(ctx)[0]
    step.run(ctx, NullProgress())
    (root / "b.txt").write_text("tampered\n")
    assert step.probe(ctx).state is ProbeState.TODO
    shutil.copy(root / "a.bin", ctx.dist_dir)
    shutil.copy(root / "b.txt", ctx.dist_dir)
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=ctx.dist_dir, capture_output=True, text=True
    )
    assert check.returncode != 0 and "b.txt: FAILED" in check.stdout


def test_missing_file_is_named(tmp_path: Path) -> None:
    ctx = make_ctx(
        tmp_path, {"enabled": False}, extra={"github": {"extra-assets": ["nope-{version}.tgz"]}}
    )
    with pytest.raises(PermanentError) as err:
        checksums.checksum_steps(ctx)[0].run(ctx, NullProgress())
    assert f"nope-{VERSION}.tgz" in err.value.what


@pytest.fixture(scope="module")
def gpg_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An armored, passphrase-protected ed25519 secret key made by real gpg."""
    home = tmp_path_factory.mktemp("gpghome")
    os.chmod(home, 0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    base = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", PASSPHRASE]
    subprocess.run(
        [
            *base,
            "--quick-gen-key",
            "Shipit Test <test@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [*base, "--armor", "--export-secret-keys"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)
    return out.stdout


def test_gpg_signature_verifies_with_gpg(zig_built: Built, gpg_key: str, tmp_path: Path) -> None:
    env = {"RELEASE_GPG_KEY": gpg_key, "RELEASE_GPG_PASS": PASSPHRASE}
    ctx = _ctx_with(
        zig_built,
        {"method": "gpg", "key-env": "RELEASE_GPG_KEY", "password-env": "RELEASE_GPG_PASS"},
        env,
    )
    steps = checksums.checksum_steps(ctx)
    assert [s.id for s in steps] == ["checksums", "checksums:sign"]
    steps[0].run(ctx, NullProgress())
    evidence = steps[1].run(ctx, NullProgress())
    sig = ctx.dist_dir / "SHA256SUMS.asc"
    assert sig.read_text().startswith("-----BEGIN PGP SIGNATURE-----")
    assert PASSPHRASE not in str(evidence) and "PRIVATE" not in str(evidence)
    # an independent keyring holding only the public key verifies it
    home = tmp_path / "verify"
    home.mkdir(mode=0o700)
    env2 = {**os.environ, "GNUPGHOME": str(home)}
    signhome = tmp_path / "exp"
    signhome.mkdir(mode=0o700)
    env3 = {**os.environ, "GNUPGHOME": str(signhome)}
    subprocess.run(
        ["gpg", "--batch", "--import"],
        input=gpg_key,
        text=True,
        env=env3,
        check=True,
        capture_output=True,
    )
    pub = subprocess.run(
        ["gpg", "--batch", "--armor", "--export"],
        env=env3,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    subprocess.run(
        ["gpg", "--batch", "--import"],
        input=pub,
        text=True,
        env=env2,
        check=True,
        capture_output=True,
    )
    ok = subprocess.run(
        ["gpg", "--batch", "--verify", str(sig), str(ctx.dist_dir / "SHA256SUMS")],
        env=env2,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Good signature" in ok.stderr
    # and a changed SHA256SUMS does not verify
    changed = tmp_path / "SHA256SUMS"
    changed.write_text((ctx.dist_dir / "SHA256SUMS").read_text() + "0" * 64 + "  evil\n")
    bad = subprocess.run(
        ["gpg", "--batch", "--verify", str(sig), str(changed)],
        env=env2,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
    for e in (env2, env3):
        subprocess.run(["gpgconf", "--kill", "all"], env=e, check=False)


def test_wrong_passphrase_fails_clearly(zig_built: Built, gpg_key: str) -> None:
    env = {"K": gpg_key, "P": "not-the-passphrase-4711"}
    ctx = _ctx_with(zig_built, {"method": "gpg", "key-env": "K", "password-env": "P"}, env)
    steps = checksums.checksum_steps(ctx)
    steps[0].run(ctx, NullProgress())
    (ctx.dist_dir / "SHA256SUMS.asc").unlink(missing_ok=True)
    with pytest.raises(PermanentError) as err:
        steps[1].run(ctx, NullProgress())
    assert "could not sign" in err.value.what
    assert "not-the-passphrase-4711" not in str(err.value)
    assert not (ctx.dist_dir / "SHA256SUMS.asc").exists()


def test_missing_key_env_is_explained(zig_built: Built) -> None:
    ctx = _ctx_with(zig_built, {"method": "gpg", "key-env": "NO_SUCH_KEY_VAR"}, {})
    steps = checksums.checksum_steps(ctx)
    steps[0].run(ctx, NullProgress())
    with pytest.raises(PermanentError) as err:
        steps[1].run(ctx, NullProgress())
    assert "NO_SUCH_KEY_VAR" in (err.value.why or "")


@pytest.mark.skipif(shutil.which("minisign") is None, reason="minisign is not installed")
def test_minisign_signature_verifies_with_minisign(zig_built: Built, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    subprocess.run(
        ["minisign", "-G", "-p", "minisign.pub", "-s", "minisign.key"],
        cwd=keys,
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
        text=True,
        check=True,
        capture_output=True,
    )
    pub = zig_built.root / "minisign.pub"
    shutil.copy(keys / "minisign.pub", pub)
    env = {"MS_KEY": (keys / "minisign.key").read_text(), "MS_PASS": PASSPHRASE}
    signing = {
        "method": "minisign",
        "key-env": "MS_KEY",
        "password-env": "MS_PASS",
        "public-key": "minisign.pub",
    }
    ctx = _ctx_with(zig_built, signing, env)
    steps = checksums.checksum_steps(ctx)
    steps[0].run(ctx, NullProgress())
    evidence = steps[1].run(ctx, NullProgress())
    assert evidence["verified"] is True
    sig = ctx.dist_dir / "SHA256SUMS.minisig"
    ok = subprocess.run(
        ["minisign", "-V", "-p", str(pub), "-m", "SHA256SUMS"],
        cwd=ctx.dist_dir,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert "verified" in ok.stdout
    assert sig.exists()
    wrong = {**env, "MS_PASS": "not-the-password-99"}
    bad_ctx = _ctx_with(zig_built, signing, wrong)
    with pytest.raises(PermanentError) as err:
        checksums.checksum_steps(bad_ctx)[1].run(bad_ctx, NullProgress())
    assert "could not sign" in err.value.what
    assert "not-the-password-99" not in str(err.value)
