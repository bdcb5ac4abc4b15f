"""pypi:build and pypi:publish against a real pypiserver, with the real ``build`` and twine,
through the engine's orchestrator and journal; faults injected by a proxy in front."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shipit.sandbox.faults import FaultProxy, add_faults, list_faults
from shipit.steps.pypi import PypiPublish

from .conftest import Project, pypi_files, release_log_texts, secrets_absent

ONLY = ("pypi",)


def index_files(index_url: str, name: str) -> dict[str, str]:
    """filename -> sha256 listed by the simple index (what pip would see)."""
    response = httpx.get(f"{index_url}{name}/", timeout=10, follow_redirects=True)
    if response.status_code == 404:
        return {}
    assert response.status_code == 200, response.text
    return dict(re.findall(r'href="[^"]*/([^/"#]+)#sha256=([0-9a-f]{64})"', response.text))


@pytest.fixture
def via_proxy(
    project: Project, pypiserver: Any, fault_proxy: Callable[[str], FaultProxy]
) -> FaultProxy:
    proxy = fault_proxy(pypiserver.url)
    project.env["TWINE_REPOSITORY_URL"] = proxy.url + "/"
    return proxy


def built(run: Any) -> dict[str, str]:
    return {f["name"]: f["sha256"] for f in run.evidence("pypi:build")["files"]}


def test_clean_publish(project: Project, unique_name: str, pypiserver: Any) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    files = built(run)
    assert sorted(files) == sorted(
        [
            f"{unique_name.replace('-', '_')}-1.0.0-py3-none-any.whl",
            f"{unique_name.replace('-', '_')}-1.0.0.tar.gz",
        ]
    )
    assert index_files(pypiserver.index_url, unique_name) == files
    assert run.evidence("pypi:publish")["files"] == files
    assert secrets_absent(release_log_texts(run), pypiserver.token)


def test_prerelease_is_uploaded_under_its_pep440_version(
    project: Project, unique_name: str, pypiserver: Any
) -> None:
    project.commit(pypi_files(unique_name, "2.0.0rc1"))
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert run.ctx.version == "2.0.0-rc.1"
    assert all("-2.0.0rc1" in name for name in index_files(pypiserver.index_url, unique_name))


def test_two_503s_then_success(
    project: Project, unique_name: str, via_proxy: FaultProxy, pypiserver: Any
) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    add_faults(
        via_proxy.url,
        {"method": "POST", "path": ".*", "action": "status", "status": 503, "times": 2},
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    # twine 7 retries a 5xx upload itself (up to 5 times, at once): both 503s were served
    # and the files are on the index, each once
    assert sum(rule["times"] for rule in list_faults(via_proxy.url)) == 0
    assert index_files(pypiserver.index_url, unique_name) == built(run)


def test_429_with_retry_after_on_the_index_read_is_honoured(
    project: Project, unique_name: str, via_proxy: FaultProxy
) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    add_faults(
        via_proxy.url,
        {
            "method": "GET",
            "path": "/simple/.*",
            "action": "status",
            "status": 429,
            "headers": {"Retry-After": "2"},
            "times": 1,
        },
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    probing = run.step_events("pypi:publish", "probing")[0]
    running = run.step_events("pypi:publish", "running")[0]
    assert 2.0 <= running.at - probing.at < 10


def test_429_from_the_upload_is_retried(
    project: Project, unique_name: str, via_proxy: FaultProxy, pypiserver: Any
) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    add_faults(
        via_proxy.url,
        {
            "method": "POST",
            "path": ".*",
            "action": "status",
            "status": 429,
            "headers": {"Retry-After": "1"},
            "times": 1,
        },
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    assert run.attempts("pypi:publish") == 2
    assert index_files(pypiserver.index_url, unique_name) == built(run)


def test_dropped_connection_after_upload_finishes_with_only_the_missing_file(
    project: Project, unique_name: str, via_proxy: FaultProxy, pypiserver: Any
) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    # the first file (the wheel) reaches pypiserver, then the connection is cut
    add_faults(
        via_proxy.url, {"method": "POST", "path": ".*", "action": "drop_after_body", "times": 1}
    )
    run = project.release(ONLY)
    assert run.outcome.state == "released", run.outcome.failed
    files = built(run)
    assert index_files(pypiserver.index_url, unique_name) == files
    # the resumed attempt uploaded only the sdist: a second wheel upload would have been
    # refused by pypiserver ("already exists") and failed the step
    assert run.attempts("pypi:publish") == 2
    wheel = next(n for n in files if n.endswith(".whl"))
    sdist = next(n for n in files if n.endswith(".tar.gz"))
    uploads = [
        e.message
        for e in run.step_events("pypi:publish", "progress")
        if e.message.startswith("twine upload")
    ]
    # one file per upload: the cut-off wheel upload is not repeated, the sdist follows once
    assert uploads == [f"twine upload {wheel}", f"twine upload {sdist}"]
    # and a re-run with the journal lost publishes nothing
    again = project.release(ONLY, fresh=True)
    assert again.state("pypi:publish") == "already-done"


def test_same_content_already_published_is_done(project: Project, unique_name: str) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    first = project.release(ONLY)
    assert first.outcome.state == "released"
    # the journal survives: the build is done, the probe finds every file on the index
    again = project.release(ONLY, resume=first.journal)
    assert again.outcome.state == "released"
    assert again.state("pypi:publish") == "done"
    assert again.step_events("pypi:publish", "running") == []
    assert again.step_events("pypi:publish", "already-done")


def test_other_content_under_the_same_version_is_a_conflict(
    project: Project, unique_name: str, pypiserver: Any
) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    first = project.release(ONLY)
    assert first.outcome.state == "released"
    published = index_files(pypiserver.index_url, unique_name)
    project.commit(pypi_files(unique_name, "1.0.0", body="VALUE = 2\n"))
    run = project.release(ONLY, fresh=True)
    assert run.outcome.state == "failed"
    assert run.state("pypi:publish") == "conflict"
    error = run.error("pypi:publish")
    assert f"the index already has {unique_name} 1.0.0 with other content" in error["what"]
    assert "release a new version: `shipit release --version 1.0.1`" in error["hint"]
    assert index_files(pypiserver.index_url, unique_name) == published


def test_bad_token_is_permanent_with_a_hint(
    project: Project, unique_name: str, pypiserver: Any
) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    bad = "pypi-bad-token-0123456789"
    run = project.release(ONLY, env={"PYPI_TOKEN": bad})
    assert run.outcome.state == "failed"
    assert run.state("pypi:publish") == "failed"
    assert run.step_events("pypi:publish", "retrying") == []
    error = run.error("pypi:publish")
    assert error["what"] == f"the package index rejected the token for {pypiserver.upload_url}: 403"
    assert "PYPI_TOKEN" in error["hint"]
    assert secrets_absent(release_log_texts(run), bad)
    assert index_files(pypiserver.index_url, unique_name) == {}


def test_undo_is_irreversible_with_the_yank_hint(project: Project, unique_name: str) -> None:
    project.commit(pypi_files(unique_name, "1.0.0"))
    run = project.release(ONLY)
    assert run.outcome.state == "released"
    undo = PypiPublish().undo(run.ctx)
    assert undo.state == "irreversible"
    assert "yank" in (undo.hint or "")
