"""npm:pack and npm:publish against a real verdaccio, with the real npm client, through the
engine's orchestrator and journal; faults injected by a proxy in front of verdaccio."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shipit.registries.npm import document_url
from shipit.sandbox.faults import FaultProxy, add_faults
from shipit.steps.npm import choose_dist_tag

from .conftest import Project, npm_files, release_log_texts, secrets_absent

ONLY = ("npm",)


def registry_doc(registry: str, name: str) -> dict[str, Any]:
    response = httpx.get(document_url(registry, name), timeout=10)
    assert response.status_code == 200, response.text
    data = response.json()
    assert isinstance(data, dict)
    return data


@pytest.fixture
def via_proxy(
    project: Project, verdaccio: Any, fault_proxy: Callable[[str], FaultProxy]
) -> FaultProxy:
    """Point the project's npm at a fault proxy in front of verdaccio."""
    proxy = fault_proxy(verdaccio.url)
    project.env["NPM_CONFIG_REGISTRY"] = proxy.url + "/"
    return proxy


def test_clean_publish_of_a_scoped_package(
    project: Project, unique_name: str, verdaccio: Any
) -> None:
    name = f"@shipit/{unique_name}"
    project.commit(npm_files(name, "1.0.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    packed = run.evidence("npm:pack")
    assert packed["filename"] == f"shipit-{unique_name}-1.0.0.tgz"
    doc = registry_doc(verdaccio.url, name)
    assert doc["versions"]["1.0.0"]["dist"]["integrity"] == packed["integrity"]
    assert doc["dist-tags"]["latest"] == "1.0.0"
    assert run.evidence("npm:publish")["tag"] == "latest"
    # the package holds the project's files and nothing of shipit's own
    with tarfile.open(packed["tarball"]) as tar:
        names = sorted(tar.getnames())
    assert names == ["package/README.md", "package/index.js", "package/package.json"]
    assert packed["files"] == 3
    assert secrets_absent(release_log_texts(run), verdaccio.token)


def test_prerelease_goes_to_its_own_dist_tag(
    project: Project, unique_name: str, verdaccio: Any
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    assert project.release(ONLY).outcome.state == "released"
    project.commit(npm_files(unique_name, "1.1.0-rc.1"))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    doc = registry_doc(verdaccio.url, unique_name)
    assert doc["dist-tags"]["rc"] == "1.1.0-rc.1"
    assert doc["dist-tags"]["latest"] == "1.0.0"


def test_dist_tag_choice() -> None:
    assert choose_dist_tag("2.0.0", None, "1.9.0")[0] == "latest"
    assert choose_dist_tag("2.0.0-beta.3", None, "1.9.0")[0] == "beta"
    assert choose_dist_tag("2.0.0-0", None, None)[0] == "next"
    assert choose_dist_tag("1.4.1", None, "2.0.0")[0] == "latest-1"
    assert choose_dist_tag("1.4.1", "lts", "2.0.0") == ("lts", "configured in [npm] tag")


def test_two_503s_then_success(
    project: Project, unique_name: str, via_proxy: FaultProxy, verdaccio: Any
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    add_faults(
        via_proxy.url,
        {"method": "PUT", "path": ".*", "action": "status", "status": 503, "times": 2},
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert run.attempts("npm:publish") == 3
    assert len(run.step_events("npm:publish", "retrying")) == 2
    doc = registry_doc(verdaccio.url, unique_name)
    assert doc["versions"]["1.0.0"]["dist"]["integrity"] == run.evidence("npm:pack")["integrity"]


def test_429_with_retry_after_on_the_registry_read_is_honoured(
    project: Project, unique_name: str, via_proxy: FaultProxy
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    add_faults(
        via_proxy.url,
        {
            "method": "GET",
            "path": ".*pkg-.*",
            "action": "status",
            "status": 429,
            "headers": {"Retry-After": "2"},
            "times": 1,
        },
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    probing = run.step_events("npm:publish", "probing")[0]
    running = run.step_events("npm:publish", "running")[0]
    # the probe met the 429 and waited the 2 s the registry asked for (not the 0.05 s backoff)
    assert 2.0 <= running.at - probing.at < 10


def test_429_from_npm_publish_is_retried(
    project: Project, unique_name: str, via_proxy: FaultProxy
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    add_faults(
        via_proxy.url,
        {
            "method": "PUT",
            "path": ".*",
            "action": "status",
            "status": 429,
            "headers": {"Retry-After": "1"},
            "times": 1,
        },
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert run.attempts("npm:publish") == 2


def test_dropped_connection_after_upload_is_probed_not_published_twice(
    project: Project, unique_name: str, via_proxy: FaultProxy, verdaccio: Any
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    add_faults(
        via_proxy.url, {"method": "PUT", "path": ".*", "action": "drop_after_body", "times": 1}
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    step = run.journal.step("npm:publish")
    # the second attempt found the version by probing and did not run npm publish again
    assert step.note == "found done by a probe after an unknown outcome"
    assert run.attempts("npm:publish") == 2
    doc = registry_doc(verdaccio.url, unique_name)
    assert doc["versions"]["1.0.0"]["dist"]["integrity"] == run.evidence("npm:pack")["integrity"]
    # a re-run with the journal lost: the probe says done, nothing is published
    again = project.release(ONLY, fresh=True)
    assert again.outcome.state == "released"
    assert again.state("npm:publish") == "already-done"
    assert again.step_events("npm:publish", "running") == []


def test_same_content_already_published_is_done(project: Project, unique_name: str) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    assert project.release(ONLY).outcome.state == "released"
    again = project.release(ONLY, fresh=True)
    assert again.outcome.state == "released"
    assert again.state("npm:publish") == "already-done"


def test_other_content_under_the_same_version_is_a_conflict(
    project: Project, unique_name: str, verdaccio: Any
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    first = project.release(ONLY)
    assert first.outcome.state == "released"
    published = first.evidence("npm:pack")["integrity"]
    project.commit(npm_files(unique_name, "1.0.0", body="module.exports = 2;\n"))
    run = project.release(ONLY, fresh=True)
    assert run.outcome.state == "failed"
    assert run.state("npm:publish") == "conflict"
    error = run.error("npm:publish")
    assert f"npm already has {unique_name}@1.0.0 with other content" in error["what"]
    assert "release a new version: `shipit release --version 1.0.1`" in error["hint"]
    doc = registry_doc(verdaccio.url, unique_name)
    assert doc["versions"]["1.0.0"]["dist"]["integrity"] == published


def test_bad_token_is_permanent_with_a_hint(
    project: Project, unique_name: str, verdaccio: Any
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    bad = "npm-bad-token-0123456789"
    run = project.release(ONLY, env={"NPM_TOKEN": bad})
    assert run.outcome.state == "failed"
    assert run.state("npm:publish") == "failed"
    assert run.step_events("npm:publish", "retrying") == []
    error = run.error("npm:publish")
    assert error["what"] == f"npm rejected the token for {verdaccio.url}: E401"
    assert "granular access token" in error["hint"] and "NPM_TOKEN" in error["hint"]
    assert secrets_absent(release_log_texts(run), bad)
    assert httpx.get(document_url(verdaccio.url, unique_name), timeout=10).status_code == 404


def test_rollback_unpublishes(project: Project, unique_name: str, verdaccio: Any) -> None:
    from shipit.steps.npm import NpmPublish

    project.commit(npm_files(unique_name, "1.0.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released"
    undo = NpmPublish().undo(run.ctx)
    assert undo.state == "undone", undo
    assert httpx.get(document_url(verdaccio.url, unique_name), timeout=10).status_code == 404
    assert NpmPublish().undo(run.ctx).state == "nothing"


def test_a_backport_does_not_move_latest(
    project: Project, unique_name: str, verdaccio: Any
) -> None:
    project.commit(npm_files(unique_name, "2.0.0"))
    assert project.release(ONLY).outcome.state == "released"
    project.commit(npm_files(unique_name, "1.5.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    doc = registry_doc(verdaccio.url, unique_name)
    assert doc["dist-tags"]["latest"] == "2.0.0"
    assert doc["dist-tags"]["latest-1"] == "1.5.0"


def test_one_time_password_required_without_npm_otp(
    project: Project, unique_name: str, via_proxy: FaultProxy
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    # what npmjs answers when 2FA is on for publishing
    add_faults(
        via_proxy.url,
        {
            "method": "PUT",
            "path": ".*",
            "action": "status",
            "status": 401,
            "headers": {"WWW-Authenticate": "OTP"},
            "body": {"error": "one-time password required"},
            "times": 1,
        },
    )
    run = project.release(ONLY)
    assert run.state("npm:publish") == "failed"
    assert run.step_events("npm:publish", "retrying") == []
    error = run.error("npm:publish")
    assert "asks for a one-time password" in error["what"]
    assert "NPM_OTP" in error["hint"]


def test_npm_otp_is_passed_on_without_leaking(
    project: Project, unique_name: str, via_proxy: FaultProxy, verdaccio: Any
) -> None:
    project.commit(npm_files(unique_name, "1.0.0"))
    run = project.release(ONLY, env={"NPM_OTP": "123456"})
    assert run.outcome.state == "released", run.outcome.failed
    assert secrets_absent(release_log_texts(run), "123456")
    assert registry_doc(verdaccio.url, unique_name)["versions"]["1.0.0"]


def test_build_command_then_pack_from_its_directory(
    project: Project, unique_name: str, verdaccio: Any
) -> None:
    """A dnt-style build: the version lives in deno.json, a command generates npm/."""
    manifest = json.dumps({"name": unique_name, "version": "1.0.0", "description": "built"})
    build = f"mkdir -p npm && cp index.js npm/ && echo '{manifest}' > npm/package.json"
    toml = (
        "[jsr]\nenabled = false\n\n[npm]\nenabled = true\n"
        f"directory = \"npm\"\nbuild-command = '''{build}'''\n"
    )
    project.commit(
        {
            "deno.json": json.dumps({"name": f"@shipit/{unique_name}", "version": "1.0.0"}),
            "index.js": "module.exports = 1;\n",
            ".gitignore": "npm/\n",
            "shipit.toml": toml,
        }
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    with tarfile.open(run.evidence("npm:pack")["tarball"]) as tar:
        assert sorted(tar.getnames()) == ["package/index.js", "package/package.json"]
    version = registry_doc(verdaccio.url, unique_name)["versions"]["1.0.0"]
    assert version["description"] == "built"


def test_build_command_receives_the_version_and_the_tag(
    project: Project, unique_name: str, verdaccio: Any
) -> None:
    """dnt's build script takes the version as its argument (`{version}`); a script may read
    SHIPIT_VERSION / SHIPIT_TAG instead. Before, SHIPIT_VERSION arrived empty here."""
    manifest = f'{{"name": "{unique_name}", "version": "%s", "description": "%s %s"}}'
    build = (
        f"mkdir -p npm && cp index.js npm/ && printf '{manifest}' "
        '{version} "$SHIPIT_VERSION" "$SHIPIT_TAG" > npm/package.json'
    )
    toml = (
        "[jsr]\nenabled = false\n\n[npm]\nenabled = true\n"
        f"directory = \"npm\"\nbuild-command = '''{build}'''\n"
    )
    project.commit(
        {
            "deno.json": json.dumps({"name": f"@shipit/{unique_name}", "version": "1.4.0"}),
            "index.js": "module.exports = 1;\n",
            ".gitignore": "npm/\n",
            "shipit.toml": toml,
        }
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    version = registry_doc(verdaccio.url, unique_name)["versions"]["1.4.0"]
    assert version["description"] == "1.4.0 v1.4.0"


def test_undo_refused_by_the_registry_gives_the_deprecate_command(
    project: Project, unique_name: str, via_proxy: FaultProxy, verdaccio: Any
) -> None:
    from shipit.steps.npm import NpmPublish

    project.commit(npm_files(unique_name, "1.0.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released"
    # like npmjs after 72 hours: unpublishing is refused
    add_faults(
        via_proxy.url,
        {
            "method": "*",
            "path": f"/{unique_name}/-rev/.*",
            "action": "status",
            "status": 405,
            "body": {"error": "unpublish is not allowed for this package"},
            "times": 5,
        },
    )
    undo = NpmPublish().undo(run.ctx)
    assert undo.state == "irreversible", undo
    assert "E405" in undo.message
    registry = via_proxy.url + "/"
    assert undo.hint == (
        f'mark it deprecated instead: `npm deprecate {unique_name}@1.0.0 "1.0.0 was withdrawn; '
        f'use another version" --registry {registry}`'
    )
    assert "1.0.0" in registry_doc(verdaccio.url, unique_name)["versions"]
