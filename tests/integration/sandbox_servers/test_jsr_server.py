"""The JSR test server against the real ``deno publish --token`` and raw API calls."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shipit.http import client
from shipit.sandbox.faults import add_faults, clear_faults

from .conftest import Proc, start

ROOT = Path(__file__).resolve().parents[3]
DENO = ROOT / ".venv" / "bin" / "deno"
TOKEN = "jsr-sandbox-token"
MODULE = "shipit.sandbox.jsr_server"


def fresh() -> str:
    return f"pkg-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def deno_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One DENO_DIR for the module, so deno's type-check cache stays warm between runs."""
    return tmp_path_factory.mktemp("deno-dir")


@pytest.fixture(scope="module")
def jsr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    """A registry without auto-create: packages must be created first, like the real JSR."""
    data = tmp_path_factory.mktemp("jsr-data")
    proc = start(MODULE, "--data", str(data), "--token", TOKEN, "--processing-delay", "1")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def jsr_auto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    data = tmp_path_factory.mktemp("jsr-auto")
    proc = start(
        MODULE, "--data", str(data), "--token", TOKEN, "--auto-create", "--processing-delay", "0"
    )
    try:
        yield proc
    finally:
        proc.stop()


def make_package(root: Path, scope: str, name: str, version: str) -> Path:
    pkg = root / name
    pkg.mkdir(parents=True)
    config = {
        "name": f"@{scope}/{name}",
        "version": version,
        "license": "MIT",
        "exports": "./mod.ts",
    }
    (pkg / "deno.json").write_text(json.dumps(config, indent=2) + "\n")
    (pkg / "mod.ts").write_text("export function hello(): string {\n  return 'hi';\n}\n")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=pkg, check=True)
    subprocess.run([*git, "add", "."], cwd=pkg, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=pkg, check=True)
    return pkg


def deno_publish(
    pkg: Path, url: str, token: str, deno_dir: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "JSR_URL": url + "/",
        "DENO_NO_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
        "DENO_DIR": str(deno_dir),
    }
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [str(DENO), "publish", "--token", token, "--no-provenance"],
        cwd=pkg,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def create_package(url: str, scope: str, name: str) -> None:
    with client(base_url=url, token=TOKEN) as c:
        resp = c.post(f"/api/scopes/{scope}/packages", json={"package": name})
        assert resp.status_code == 200, resp.text
        assert resp.json()["name"] == name


def tarball(files: dict[str, bytes], prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def package_files(scope: str, name: str, version: str) -> dict[str, bytes]:
    config = {"name": f"@{scope}/{name}", "version": version, "exports": "./mod.ts"}
    return {"deno.json": json.dumps(config).encode(), "mod.ts": b"export const x = 1;\n"}


def raw_publish(
    url: str, scope: str, name: str, version: str, body: bytes, **headers: str
) -> httpx.Response:
    with client(base_url=url, token=TOKEN) as c:
        return c.post(
            f"/api/scopes/{scope}/packages/{name}/versions/{version}",
            params={"config": "/deno.json"},
            content=body,
            headers={"Content-Encoding": "gzip", **headers},
        )


def wait_task(url: str, task_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 10
    with client(base_url=url) as c:
        while True:
            task = c.get(f"/api/publish_status/{task_id}").json()
            if task["status"] in ("success", "failure") or time.monotonic() > deadline:
                return dict(task)
            time.sleep(0.05)


# --- the real deno ------------------------------------------------------------------------------


def test_deno_publishes_then_skips_an_already_published_version(
    jsr: Proc, tmp_path: Path, deno_dir: Path
) -> None:
    name = fresh()
    create_package(jsr.url, "sbx", name)
    pkg = make_package(tmp_path, "sbx", name, "1.2.3")

    first = deno_publish(pkg, jsr.url, TOKEN, deno_dir)
    assert first.returncode == 0, first.stderr
    assert f"Successfully published @sbx/{name}@1.2.3" in first.stderr

    with client(base_url=jsr.url) as c:
        meta = c.get(f"/@sbx/{name}/meta.json").json()
        assert meta == {
            "scope": "sbx",
            "name": name,
            "latest": "1.2.3",
            "versions": {"1.2.3": {"createdAt": meta["versions"]["1.2.3"]["createdAt"]}},
        }
        files = c.get(f"/@sbx/{name}/1.2.3_meta.json").json()["manifest"]
        mod = (pkg / "mod.ts").read_bytes()
        assert files["/mod.ts"] == {
            "size": len(mod),
            "checksum": "sha256-" + hashlib.sha256(mod).hexdigest(),
        }
        assert "/deno.json" in files
        assert c.get(f"/@sbx/{name}/1.2.3/mod.ts").content == mod
        version = c.get(f"/api/scopes/sbx/packages/{name}/versions/1.2.3").json()
        assert version["version"] == "1.2.3" and version["yanked"] is False

    second = deno_publish(pkg, jsr.url, TOKEN, deno_dir)
    assert second.returncode == 0, second.stderr
    assert f"Skipping, already published @sbx/{name}@1.2.3" in second.stderr


def test_deno_with_a_bad_token_fails_with_invalid_bearer_token(
    jsr: Proc, tmp_path: Path, deno_dir: Path
) -> None:
    name = fresh()
    create_package(jsr.url, "sbx", name)
    pkg = make_package(tmp_path, "sbx", name, "0.1.0")
    result = deno_publish(pkg, jsr.url, "not-the-token", deno_dir)
    assert result.returncode == 1
    assert "invalidBearerToken" in result.stderr
    assert "The provided bearer token is invalid." in result.stderr
    with client(base_url=jsr.url) as c:
        assert c.get(f"/@sbx/{name}/meta.json").json()["versions"] == {}


def test_deno_on_a_missing_package_prints_the_create_link(
    jsr: Proc, tmp_path: Path, deno_dir: Path
) -> None:
    name = fresh()
    pkg = make_package(tmp_path, "sbx", name, "0.1.0")
    result = deno_publish(pkg, jsr.url, TOKEN, deno_dir)
    assert result.returncode == 1
    assert "Following packages don't exist, follow the links and create them:" in result.stderr
    assert f"{jsr.url}/new?scope=sbx&package={name}&from=cli" in result.stderr
    with client(base_url=jsr.url) as c:
        resp = c.get(
            f"/api/scopes/sbx/packages/{name}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert resp.status_code == 404 and resp.json()["code"] == "packageNotFound"


def test_deno_publish_auto_creates_the_package_in_sandbox_mode(
    jsr_auto: Proc, tmp_path: Path, deno_dir: Path
) -> None:
    name = fresh()
    pkg = make_package(tmp_path, "auto", name, "2.0.0")
    result = deno_publish(pkg, jsr_auto.url, TOKEN, deno_dir)
    assert result.returncode == 0, result.stderr
    assert f"Successfully published @auto/{name}@2.0.0" in result.stderr
    with client(base_url=jsr_auto.url) as c:
        assert c.get(f"/@auto/{name}/meta.json").json()["latest"] == "2.0.0"


def test_deno_sees_a_failed_task_when_the_config_version_is_wrong(
    jsr_auto: Proc, tmp_path: Path
) -> None:
    """A server-side check failure reaches the user through the publish task."""
    name = fresh()
    files = package_files("auto", name, "9.9.9")
    resp = raw_publish(jsr_auto.url, "auto", name, "1.0.0", tarball(files))
    assert resp.status_code == 200
    task = wait_task(jsr_auto.url, str(resp.json()["id"]))
    assert task["status"] == "failure"
    error = task["error"]
    assert isinstance(error, dict) and error["code"] == "invalidConfigFile"
    assert "9.9.9" in error["message"]
    with client(base_url=jsr_auto.url) as c:
        resp = c.get(f"/api/scopes/auto/packages/{name}/versions/1.0.0")
        assert resp.status_code == 404 and resp.json()["code"] == "packageVersionNotFound"


# --- raw protocol -------------------------------------------------------------------------------


def test_duplicate_upload_answers_400_with_a_top_level_task(jsr_auto: Proc) -> None:
    name = fresh()
    body = tarball(package_files("raw", name, "1.0.0"), prefix="./")  # deno's source form
    first = raw_publish(jsr_auto.url, "raw", name, "1.0.0", body)
    assert first.status_code == 200, first.text
    assert wait_task(jsr_auto.url, str(first.json()["id"]))["status"] == "success"

    dup = raw_publish(jsr_auto.url, "raw", name, "1.0.0", body)
    assert dup.status_code == 400
    payload = dup.json()
    assert payload["code"] == "duplicateVersionPublish"
    assert payload["message"] == "This version of the package is already being published."
    assert payload["task"]["id"] == first.json()["id"]
    assert payload["task"]["status"] == "success"
    assert payload["task"]["packageVersion"] == "1.0.0"


def test_upload_rules_gzip_size_config_and_auth(jsr: Proc, jsr_auto: Proc) -> None:
    name = fresh()
    body = tarball(package_files("raw", name, "1.0.0"))
    with client(base_url=jsr_auto.url, token=TOKEN) as c:
        resp = c.post(
            f"/api/scopes/raw/packages/{name}/versions/1.0.0?config=%2Fdeno.json", content=body
        )
        assert resp.status_code == 400
        assert resp.json()["code"] == "missingGzipContentEncoding"

    big = os.urandom(20 * 1024 * 1024 + 10)
    resp = raw_publish(jsr_auto.url, "raw", name, "1.0.0", big)
    assert resp.status_code == 413 and resp.json()["code"] == "tarballSizeLimitExceeded"

    missing_config = tarball({"mod.ts": b"export const x = 1;\n"})
    resp = raw_publish(jsr_auto.url, "raw", name, "1.0.1", missing_config)
    task = wait_task(jsr_auto.url, str(resp.json()["id"]))
    assert task["status"] == "failure"
    assert isinstance(task["error"], dict) and task["error"]["code"] == "missingConfigFile"

    with client(base_url=jsr.url, token="wrong") as c:
        resp = c.post(
            f"/api/scopes/raw/packages/{name}/versions/1.0.0?config=%2Fdeno.json",
            content=body,
            headers={"Content-Encoding": "gzip"},
        )
        assert resp.status_code == 401
        assert resp.json() == {
            "code": "invalidBearerToken",
            "message": "The provided bearer token is invalid.",
        }

    # without auto-create a publish to a missing package is refused, with the create link
    resp = raw_publish(jsr.url, "raw", name, "1.0.0", body)
    assert resp.status_code == 404 and resp.json()["code"] == "packageNotFound"
    assert f"/new?scope=raw&package={name}&from=cli" in resp.json()["message"]


def test_task_goes_pending_processing_success(jsr: Proc) -> None:
    name = fresh()
    create_package(jsr.url, "raw", name)
    resp = raw_publish(jsr.url, "raw", name, "3.0.0", tarball(package_files("raw", name, "3.0.0")))
    task = resp.json()
    assert task["status"] == "pending" and task["error"] is None
    assert set(task) == {
        "id",
        "status",
        "error",
        "user",
        "packageScope",
        "packageName",
        "packageVersion",
        "createdAt",
        "updatedAt",
    }
    seen = []
    deadline = time.monotonic() + 5
    with client(base_url=jsr.url) as c:
        while time.monotonic() < deadline:
            status = c.get(f"/api/publish_status/{task['id']}").json()["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == "success":
                break
            time.sleep(0.05)
        # not visible while pending
    assert seen[-1] == "success" and "processing" in seen


def test_yank_and_state_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ("--data", str(data), "--token", TOKEN, "--auto-create", "--processing-delay", "0")
    proc = start(MODULE, *args)
    try:
        for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
            body = tarball(package_files("keep", "thing", version))
            assert raw_publish(proc.url, "keep", "thing", version, body).status_code == 200
        with client(base_url=proc.url, token=TOKEN) as c:
            assert c.get("/@keep/thing/meta.json").json()["latest"] == "1.1.0"
            resp = c.patch("/api/scopes/keep/packages/thing/versions/1.1.0", json={"yanked": True})
            assert resp.status_code == 204
    finally:
        proc.stop()

    proc = start(MODULE, *args)
    try:
        with client(base_url=proc.url) as c:
            meta = c.get("/@keep/thing/meta.json").json()
            assert meta["latest"] == "1.0.0"
            assert meta["versions"]["1.1.0"]["yanked"] is True
            assert "yanked" not in meta["versions"]["1.0.0"]
            assert set(meta["versions"]) == {"1.0.0", "1.1.0", "2.0.0-rc.1"}
            version = c.get("/api/scopes/keep/packages/thing/versions/1.1.0").json()
            assert version["yanked"] is True
            dup = raw_publish(proc.url, "keep", "thing", "1.0.0", b"x")
            assert dup.status_code == 400 and dup.json()["task"]["status"] == "success"
    finally:
        proc.stop()


def test_yank_needs_a_scope_admin(spawn: Callable[..., Proc], tmp_path: Path) -> None:
    proc = spawn(
        MODULE,
        "--data",
        str(tmp_path),
        "--token",
        TOKEN,
        "--scope-admin-token",
        "admin-t",
        "--auto-create",
        "--processing-delay",
        "0",
    )
    body = tarball(package_files("adm", "p1", "1.0.0"))
    assert raw_publish(proc.url, "adm", "p1", "1.0.0", body).status_code == 200
    path = "/api/scopes/adm/packages/p1/versions/1.0.0"
    with client(base_url=proc.url, token=TOKEN) as c:
        resp = c.patch(path, json={"yanked": True})
        assert resp.status_code == 403 and resp.json()["code"] == "actorNotScopeAdmin"
    with client(base_url=proc.url, token="admin-t") as c:
        assert c.patch(path, json={"yanked": True}).status_code == 204
        assert c.get("/@adm/p1/meta.json").json()["versions"]["1.0.0"]["yanked"] is True


# --- faults -------------------------------------------------------------------------------------


def test_faults_on_the_jsr_server(jsr_auto: Proc) -> None:
    url = jsr_auto.url
    name = fresh()
    path = f"/api/scopes/flt/packages/{name}/versions/1.0.0"
    body = tarball(package_files("flt", name, "1.0.0"))
    try:
        # status: answered as told, nothing published
        rule = {"method": "POST", "path": path, "action": "status", "status": 503, "times": 2}
        add_faults(url, {**rule, "headers": {"Retry-After": "1"}, "body": {"code": "busy"}})
        rules = client(base_url=url).get("/_shipit/faults").json()["rules"]
        assert rules[0]["remaining"] == 2
        for _ in range(2):
            resp = raw_publish(url, "flt", name, "1.0.0", body)
            assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
            assert resp.json() == {"code": "busy"}
        assert client(base_url=url).get("/_shipit/faults").json()["rules"] == []
        assert client(base_url=url).get(path).status_code == 404

        # drop_before_body: the connection closes, nothing published
        add_faults(url, {"method": "POST", "path": path, "action": "drop_before_body"})
        with pytest.raises(httpx.TransportError):
            raw_publish(url, "flt", name, "1.0.0", body)
        assert client(base_url=url).get(path).status_code == 404

        # drop_after_body: no answer, but the version IS published
        add_faults(url, {"method": "POST", "path": path, "action": "drop_after_body"})
        with pytest.raises(httpx.TransportError):
            raw_publish(url, "flt", name, "1.0.0", body)
        assert client(base_url=url).get(path).status_code == 200

        # delay: slow, then normal
        add_faults(
            url, {"method": "GET", "path": "meta\\.json$", "action": "delay", "delay_s": 0.5}
        )
        t0 = time.monotonic()
        resp = client(base_url=url).get(f"/@flt/{name}/meta.json")
        assert time.monotonic() - t0 >= 0.5
        assert resp.status_code == 200 and "1.0.0" in resp.json()["versions"]
        # only matching method/path are hit
        add_faults(url, {"method": "PUT", "path": ".*", "action": "status", "status": 500})
        assert client(base_url=url).get(f"/@flt/{name}/meta.json").status_code == 200
    finally:
        clear_faults(url)
    assert client(base_url=url).get("/_shipit/faults").json()["rules"] == []


def test_deno_publish_through_a_503_fault(jsr_auto: Proc, tmp_path: Path, deno_dir: Path) -> None:
    """What the real deno does when the upload answers 503: it fails, nothing is published."""
    name = fresh()
    pkg = make_package(tmp_path, "auto", name, "1.0.0")
    add_faults(
        jsr_auto.url,
        {
            "method": "POST",
            "path": f"/packages/{name}/versions/",
            "action": "status",
            "status": 503,
            "body": {"code": "internalServerError", "message": "try again"},
        },
    )
    try:
        result = deno_publish(pkg, jsr_auto.url, TOKEN, deno_dir)
    finally:
        clear_faults(jsr_auto.url)
    assert result.returncode == 1, result.stderr
    assert "try again" in result.stderr
    with client(base_url=jsr_auto.url) as c:
        assert c.get(f"/api/scopes/auto/packages/{name}/versions/1.0.0").status_code == 404


def test_deno_fails_on_a_lost_status_poll_although_the_version_is_published(
    jsr: Proc, tmp_path: Path, deno_dir: Path
) -> None:
    """Seen with deno 2.9.8: a 502 on the status poll makes deno exit 1, yet the publish went
    through. Only a probe of the registry tells the truth afterwards."""
    name = fresh()
    create_package(jsr.url, "sbx", name)
    pkg = make_package(tmp_path, "sbx", name, "1.0.0")
    add_faults(jsr.url, {"method": "GET", "path": "^/api/publish_status/", "status": 502})
    try:
        result = deno_publish(pkg, jsr.url, TOKEN, deno_dir)
    finally:
        clear_faults(jsr.url)
    assert result.returncode == 1
    assert f"Failed to get publishing status for @sbx/{name} at 1.0.0" in result.stderr
    with client(base_url=jsr.url) as c:
        deadline = time.monotonic() + 5
        while c.get(f"/api/scopes/sbx/packages/{name}/versions/1.0.0").status_code != 200:
            assert time.monotonic() < deadline, "the upload should have been published"
            time.sleep(0.05)


@pytest.mark.slow
def test_deno_waits_for_an_upload_already_in_flight_instead_of_uploading_again(
    spawn: Callable[..., Proc], tmp_path: Path, deno_dir: Path
) -> None:
    """duplicateVersionPublish with a pending task: deno polls that task and succeeds."""
    data = tmp_path / "data"
    proc = spawn(
        MODULE, "--data", str(data), "--token", TOKEN, "--auto-create", "--processing-delay", "120"
    )
    pkg = make_package(tmp_path, "race", "lib", "1.0.0")
    body = tarball(package_files("race", "lib", "1.0.0"))
    first = raw_publish(proc.url, "race", "lib", "1.0.0", body)
    assert first.json()["status"] == "pending"
    # a no-op rule on the status path tells us when deno, answered "duplicate, pending", polls
    add_faults(proc.url, {"method": "GET", "path": "^/api/publish_status/", "action": "delay"})
    env = {
        **os.environ,
        "JSR_URL": proc.url + "/",
        "DENO_NO_UPDATE_CHECK": "1",
        "NO_COLOR": "1",
        "DENO_DIR": str(deno_dir),
    }
    deno = subprocess.Popen(
        [str(DENO), "publish", "--token", TOKEN, "--no-provenance"],
        cwd=pkg,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with client(base_url=proc.url) as c:
            deadline = time.monotonic() + 90
            while c.get("/_shipit/faults").json()["rules"] and deno.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert c.post("/_shipit/settle").json()["settled"] == [first.json()["id"]]
        output, _ = deno.communicate(timeout=60)
    finally:
        if deno.poll() is None:
            deno.kill()
            deno.wait()
    assert deno.returncode == 0, output
    assert "Already uploaded, waiting for publishing @race/lib@1.0.0" in output
    assert "Successfully published @race/lib@1.0.0" in output
    assert len(list((data / "tarballs").rglob("*.tar.gz"))) == 1  # one upload, not two
