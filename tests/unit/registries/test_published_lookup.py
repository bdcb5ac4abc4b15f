"""The checks' per-run cache over the adapters (``checks.published.PublishedLookup``): one
request per registry and version, local content compared with what the registry holds."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from shipit.checks.artifacts import PublishSets
from shipit.checks.published import PublishedLookup
from shipit.config import Config, Settings

from .conftest import Canned


def _lookup(root: Path, env: dict[str, str], dist: Path | None = None) -> PublishedLookup:
    config = Config()
    return PublishedLookup(
        config, Settings.from_env(env, config), PublishSets(root, os.environ), dist_dir=dist
    )


def test_pypi_files_built_into_dist_pypi_make_the_release_resumable(
    canned: Canned, tmp_path: Path
) -> None:
    built = tmp_path / "dist" / "pypi"
    built.mkdir(parents=True)
    sdist = built / "acme_widget-1.0.0.tar.gz"
    sdist.write_bytes(b"the sdist\n")
    digest = hashlib.sha256(b"the sdist\n").hexdigest()
    page = f'<a href="/packages/acme_widget-1.0.0.tar.gz#sha256={digest}">x</a>'
    canned.answer("/simple/acme-widget/", body=page, content_type="text/html")
    lookup = _lookup(tmp_path, {"TWINE_REPOSITORY_URL": canned.url}, tmp_path / "dist")
    state = lookup.state("pypi", "acme-widget", "1.0.0", tmp_path)
    assert state.published and state.identical is True and state.resumable
    assert state.detail == "the index has 1 file(s) of acme-widget 1.0.0"
    # asked once per run
    assert lookup.state("pypi", "acme-widget", "1.0.0", tmp_path) is state
    assert canned.paths() == ["/simple/acme-widget/"]

    sdist.write_bytes(b"another sdist\n")
    again = _lookup(tmp_path, {"TWINE_REPOSITORY_URL": canned.url}, tmp_path / "dist")
    other = again.state("pypi", "acme-widget", "1.0.0-rc.1", tmp_path)
    assert other.version == "1.0.0rc1" and not other.published
    other = again.state("pypi", "acme-widget", "1.0.0", tmp_path)
    assert other.published and other.identical is False


def test_jsr_compares_the_publish_set_with_the_published_checksums(
    canned: Canned, tmp_path: Path
) -> None:
    (tmp_path / "deno.json").write_text(json.dumps({"name": "@acme/widget", "version": "1.0.0"}))
    (tmp_path / "mod.ts").write_text("export const x = 1;\n")

    def sha(path: Path) -> str:
        return "sha256-" + hashlib.sha256(path.read_bytes()).hexdigest()

    manifest = {
        "/deno.json": {"size": 1, "checksum": sha(tmp_path / "deno.json")},
        "/mod.ts": {"size": 1, "checksum": sha(tmp_path / "mod.ts")},
    }
    canned.answer(
        "/@acme/widget/meta.json",
        body={"scope": "acme", "name": "widget", "latest": "1.0.0", "versions": {"1.0.0": {}}},
    )
    canned.answer("/@acme/widget/1.0.0_meta.json", body={"manifest": manifest})
    state = _lookup(tmp_path, {"JSR_URL": canned.url}).state(
        "jsr", "@acme/widget", "1.0.0", tmp_path
    )
    assert state.resumable and state.detail == "JSR has @acme/widget@1.0.0 (same content)"

    # another module under the same version: deno's upload is read to compare the code
    canned.answer("/@acme/widget/1.0.0/mod.ts", body="export const x = 1;\n")
    (tmp_path / "mod.ts").write_text("export const x = 2;\n")
    state = _lookup(tmp_path, {"JSR_URL": canned.url}).state(
        "jsr", "@acme/widget", "1.0.0", tmp_path
    )
    assert state.published and state.identical is False


def test_an_unreachable_registry_is_an_error_not_an_exception(
    closed_port: str, tmp_path: Path
) -> None:
    state = _lookup(tmp_path, {"NPM_CONFIG_REGISTRY": closed_port}).state(
        "npm", "acme-widget", "1.0.0", tmp_path
    )
    assert not state.published and state.error == f"cannot connect to {closed_port}"
