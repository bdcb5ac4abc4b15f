"""jsr:publish with the real ``deno publish`` against the JSR test server, through the engine's
orchestrator and journal; faults injected with the server's own fault rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from shipit.sandbox.faults import add_faults, list_faults
from shipit.steps.jsr import JsrPublish

from .conftest import Project, jsr_files, release_log_texts, secrets_absent

ONLY = ("jsr",)
SCOPE = "shipit"


def meta(jsr_url: str, name: str) -> dict[str, Any]:
    response = httpx.get(f"{jsr_url}/{name}/meta.json", timeout=10)
    if response.status_code == 404:
        return {}
    assert response.status_code == 200, response.text
    data = response.json()
    assert isinstance(data, dict)
    return data


def file_meta(jsr_url: str, name: str, version: str) -> dict[str, Any]:
    response = httpx.get(f"{jsr_url}/{name}/{version}_meta.json", timeout=10)
    assert response.status_code == 200, response.text
    manifest = response.json()["manifest"]
    assert isinstance(manifest, dict)
    return manifest


def publish_rule(name: str, **rule: Any) -> dict[str, Any]:
    """A fault rule on the publish upload of ``name`` only (the server is shared)."""
    pkg = name.split("/")[1]
    return {"method": "POST", "path": f"/api/scopes/{SCOPE}/packages/{pkg}/versions/.*", **rule}


def test_clean_publish(project: Project, unique_name: str, jsr_server: Any) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert meta(jsr_server.url, name)["versions"].keys() == {"1.0.0"}
    published = file_meta(jsr_server.url, name, "1.0.0")
    # the project's files, nothing of shipit's journal or logs
    assert sorted(published) == ["/README.md", "/deno.json", "/mod.ts"]
    assert run.evidence("jsr:publish")["files"] == {
        path: info["checksum"] for path, info in published.items()
    }
    assert secrets_absent(release_log_texts(run), jsr_server.token)


def test_two_503s_then_success(
    project: Project, unique_name: str, jsr_server: Any, jsr_faults: Callable[[], None]
) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    add_faults(jsr_server.url, publish_rule(name, action="status", status=503, times=2))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert run.attempts("jsr:publish") == 3
    assert "1.0.0" in meta(jsr_server.url, name)["versions"]


def test_429_with_retry_after_on_the_metadata_read_is_honoured(
    project: Project, unique_name: str, jsr_server: Any, jsr_faults: Callable[[], None]
) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    add_faults(
        jsr_server.url,
        {
            "method": "GET",
            "path": f"/{name}/meta.json",
            "action": "status",
            "status": 429,
            "headers": {"Retry-After": "2"},
            "times": 1,
        },
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    probing = run.step_events("jsr:publish", "probing")[0]
    running = run.step_events("jsr:publish", "running")[0]
    assert 2.0 <= running.at - probing.at < 10


def test_429_from_the_upload_is_retried(
    project: Project, unique_name: str, jsr_server: Any, jsr_faults: Callable[[], None]
) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    add_faults(
        jsr_server.url,
        publish_rule(name, action="status", status=429, headers={"Retry-After": "1"}, times=1),
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert run.attempts("jsr:publish") == 2
    assert "1.0.0" in meta(jsr_server.url, name)["versions"]


def test_dropped_connection_after_upload_is_not_published_twice(
    project: Project, unique_name: str, jsr_server: Any, jsr_faults: Callable[[], None]
) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    # JSR takes the upload, then the connection is cut before the answer. (deno 2.9.8 sends
    # the POST once more by itself; JSR answers duplicateVersionPublish with the first task,
    # which deno then polls: one version, one task.)
    add_faults(jsr_server.url, publish_rule(name, action="drop_after_body", times=1))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert sum(r["times"] for r in list_faults(jsr_server.url)) == 0  # the cut happened
    assert run.step_events("jsr:publish", "retrying") == []
    assert run.attempts("jsr:publish") <= 1
    published = file_meta(jsr_server.url, name, "1.0.0")
    assert run.evidence("jsr:publish")["files"] == {
        path: info["checksum"] for path, info in published.items()
    }
    # a re-run with the journal lost finds it by probing and runs no deno at all
    again = project.release(ONLY, fresh=True)
    assert again.state("jsr:publish") == "already-done"
    assert again.step_events("jsr:publish", "running") == []


def test_same_content_already_published_is_done(project: Project, unique_name: str) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    assert project.release(ONLY).outcome.state == "released"
    again = project.release(ONLY, fresh=True)
    assert again.outcome.state == "released"
    assert again.state("jsr:publish") == "already-done"


def test_other_content_under_the_same_version_is_a_conflict(
    project: Project, unique_name: str, jsr_server: Any
) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    assert project.release(ONLY).outcome.state == "released"
    before = file_meta(jsr_server.url, name, "1.0.0")
    project.commit(jsr_files(name, "1.0.0", body="export const x: number = 2;\n"))
    run = project.release(ONLY, fresh=True)
    assert run.outcome.state == "failed"
    assert run.state("jsr:publish") == "conflict"
    error = run.error("jsr:publish")
    assert f"JSR already has {name}@1.0.0 with other content: /mod.ts differs" in error["what"]
    assert "registries never let a version be published again" in error["what"]
    assert error["hint"].startswith("release a new version: `shipit release --version 1.0.1`")
    assert file_meta(jsr_server.url, name, "1.0.0") == before


def test_bad_token_is_permanent_with_a_hint(
    project: Project, unique_name: str, jsr_server: Any
) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    bad = "jsr-bad-token-0123456789"
    run = project.release(ONLY, env={"JSR_TOKEN": bad})
    assert run.outcome.state == "failed"
    assert run.state("jsr:publish") == "failed"
    assert run.step_events("jsr:publish", "retrying") == []
    error = run.error("jsr:publish")
    assert error["what"] == f"JSR rejected the token for {jsr_server.url}/: invalidBearerToken"
    assert "JSR_TOKEN" in error["hint"]
    assert secrets_absent(release_log_texts(run), bad)
    assert meta(jsr_server.url, name).get("versions", {}) == {}


def test_undo_yanks(project: Project, unique_name: str, jsr_server: Any) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released"
    undo = JsrPublish().undo(run.ctx)
    assert undo.state == "undone", undo
    assert meta(jsr_server.url, name)["versions"]["1.0.0"].get("yanked") is True
    # the same version again: JSR keeps it yanked, so it is not "already done" but a version
    # that can never be published again, and the way on is a new one
    again = project.release(ONLY, fresh=True)
    assert again.state("jsr:publish") == "conflict"
    error = again.error("jsr:publish")
    assert error["what"] == (
        f"JSR holds {name}@1.0.0 yanked (a rollback or a scope admin yanked it): it stays "
        "yanked, and registries never let a version be published again, not even after a "
        "rollback, an unpublish or a yank"
    )
    assert error["hint"].startswith("release a new version: `shipit release --version 1.0.1`")


def test_uncommitted_foreign_files_stop_before_deno(project: Project, unique_name: str) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    (project.root / "scratch.ts").write_text("export {};\n")
    run = project.release(ONLY)
    assert run.state("jsr:publish") == "failed"
    error = run.error("jsr:publish")
    assert error["what"] == "the JSR package directory has uncommitted changes"
    assert "scratch.ts" in error["why"]


def test_a_package_that_does_not_exist_yet_is_explained(
    project: Project, unique_name: str, tmp_path: Any
) -> None:
    """A registry without auto-create (like jsr.io): deno's link becomes the hint."""
    from shipit.sandbox._http import SandboxHTTPServer, ServerThread
    from shipit.sandbox.jsr_server import JsrHandler, JsrRegistry

    token = "jsr-strict-token-0123456789"
    registry = JsrRegistry(tmp_path / "jsr-strict", tokens=[token], processing_delay=0.1)
    server = SandboxHTTPServer(0, JsrHandler, registry)
    thread = ServerThread(server)
    thread.start()
    try:
        name = f"@{SCOPE}/{unique_name}"
        project.commit(jsr_files(name, "1.0.0"))
        run = project.release(ONLY, env={"JSR_URL": server.url + "/", "JSR_TOKEN": token})
        assert run.state("jsr:publish") == "failed"
        assert run.step_events("jsr:publish", "retrying") == []
        error = run.error("jsr:publish")
        assert error["what"] == f"the JSR package {name} does not exist yet"
        assert f"{server.url}/new?scope={SCOPE}&package={unique_name}" in error["hint"]
    finally:
        thread.stop()


def test_a_version_bump_shipit_wrote_is_published_with_allow_dirty(
    project: Project, unique_name: str, jsr_server: Any
) -> None:
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(name, "1.0.0"))
    # `shipit version set 1.0.1` changed deno.json and the change is not committed yet
    manifest = project.root / "deno.json"
    manifest.write_text(manifest.read_text().replace('"1.0.0"', '"1.0.1"'))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert "1.0.1" in meta(jsr_server.url, name)["versions"]


def _with_import_map(name: str, dep: str, version: str = "1.0.0") -> dict[str, str]:
    """A package importing ``dep`` through its import map, as most Deno packages do."""
    manifest = {
        "name": name,
        "version": version,
        "license": "MIT",
        "exports": "./mod.ts",
        "imports": {"dep": f"jsr:{dep}@^1.0.0"},
        # the dependency was published a moment ago: deno 2.9 waits 24 hours by default
        "minimumDependencyAge": 0,
    }
    body = (
        'import { x } from "dep";\n\n/** One more than the dependency. */\n'
        "export const y: number = x + 1;\n"
    )
    return {"deno.json": json.dumps(manifest, indent=2) + "\n", "mod.ts": body}


def test_import_map_package_released_twice_is_already_done(
    project: Project, unique_name: str, jsr_server: Any
) -> None:
    """deno uploads mod.ts with `"dep"` unfurled to `"jsr:@shipit/...@^1.0.0"`: the published
    checksum differs from the local file's, and that is still our publish, not a conflict."""
    dep = f"@{SCOPE}/{unique_name}-dep"
    name = f"@{SCOPE}/{unique_name}"
    project.commit(jsr_files(dep, "1.0.0"))
    assert project.release(ONLY).outcome.state == "released"
    project.commit(_with_import_map(name, dep))
    first = project.release(ONLY, fresh=True)
    assert first.outcome.state == "released", first.outcome.failed
    uploaded = httpx.get(f"{jsr_server.url}/{name}/1.0.0/mod.ts", timeout=10).text
    assert f'from "jsr:{dep}@^1.0.0"' in uploaded  # what deno really uploaded
    again = project.release(ONLY, fresh=True)
    assert again.outcome.state == "released", again.outcome.failed
    assert again.state("jsr:publish") == "already-done"
    # a real change of the code under the same version is still a conflict
    changed = _with_import_map(name, dep)
    changed["mod.ts"] = changed["mod.ts"].replace("x + 1", "x + 2")
    project.commit(changed)
    conflict = project.release(ONLY, fresh=True)
    assert conflict.state("jsr:publish") == "conflict"
    assert "/mod.ts differs" in conflict.error("jsr:publish")["what"]


def test_a_tag_driven_package_is_published_with_set_version(
    project: Project, unique_name: str, jsr_server: Any
) -> None:
    """deno.json without "version" (CI publishes with the tag): --set-version names it."""
    name = f"@{SCOPE}/{unique_name}"
    files = jsr_files(name, "0")
    manifest = json.loads(files["deno.json"])
    del manifest["version"]
    files["deno.json"] = json.dumps(manifest, indent=2) + "\n"
    project.commit(files)
    project.repo.git("tag", "-a", "v0.3.0", "-m", "Release v0.3.0")
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert meta(jsr_server.url, name)["versions"].keys() == {"0.3.0"}
    again = project.release(ONLY, fresh=True)
    assert again.state("jsr:publish") == "already-done"


def test_a_dependency_that_does_not_exist_is_not_a_missing_package(
    project: Project, unique_name: str
) -> None:
    """deno's "JSR package not found: @x/y" is about a dependency, not the package itself."""
    name = f"@{SCOPE}/{unique_name}"
    missing = f"@{SCOPE}/{unique_name}-nowhere"
    project.commit(_with_import_map(name, missing))
    run = project.release(ONLY)
    assert run.state("jsr:publish") == "failed"
    assert run.step_events("jsr:publish", "retrying") == []
    error = run.error("jsr:publish")
    assert error["what"].startswith(f"deno could not load the jsr dependency {missing} of {name}")
    assert "does not exist yet" not in error["what"]
    assert "import map" in error["hint"]


def test_an_npm_dependency_that_does_not_exist_is_not_a_missing_package(
    project: Project, unique_name: str
) -> None:
    """deno's "npm package 'x' does not exist." names a dependency, not the JSR package."""
    name = f"@{SCOPE}/{unique_name}"
    missing = f"{unique_name}-nowhere"
    files = _with_import_map(name, "@x/unused")
    manifest = json.loads(files["deno.json"])
    manifest["imports"] = {"dep": f"npm:{missing}@^1.0.0"}
    files["deno.json"] = json.dumps(manifest, indent=2) + "\n"
    files["mod.ts"] = 'import x from "dep";\n\n/** The dependency. */\nexport const y = x;\n'
    project.commit(files)
    run = project.release(ONLY)
    assert run.state("jsr:publish") == "failed"
    assert run.step_events("jsr:publish", "retrying") == []
    error = run.error("jsr:publish")
    assert error["what"].startswith(f"deno could not load the npm dependency {missing} of {name}")
    assert "does not exist yet" not in error["what"]
    assert f"npm package '{missing}' does not exist" in error["why"]


def test_a_tag_driven_workspace_root_with_a_name_is_published_alone_with_set_version(
    project: Project, unique_name: str, jsr_server: Any
) -> None:
    """deno refuses --set-version only for a workspace root without a name of its own (several
    packages at once); a root deno.json with name and exports is one package, published
    alone, its members untouched."""
    name = f"@{SCOPE}/{unique_name}"
    root = {"name": name, "license": "MIT", "exports": "./mod.ts", "workspace": ["./member"]}
    member = {"name": f"{name}-member", "license": "MIT", "exports": "./mod.ts"}
    project.commit(
        {
            "deno.json": json.dumps(root, indent=2) + "\n",
            "mod.ts": "export const x: number = 1;\n",
            "member/deno.json": json.dumps(member, indent=2) + "\n",
            "member/mod.ts": "export const y: number = 2;\n",
        }
    )
    project.repo.git("tag", "-a", "v0.3.0", "-m", "Release v0.3.0")
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert meta(jsr_server.url, name)["versions"].keys() == {"0.3.0"}
    assert meta(jsr_server.url, f"{name}-member") == {}
