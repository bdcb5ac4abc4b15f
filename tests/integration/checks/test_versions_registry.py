"""versions and registry checks: consistency, tags, JSR and GitHub tokens, resumable JSR."""

from __future__ import annotations

import json
import subprocess

from shipit.checks.base import Status

from .conftest import ExampleFactory


def package_json(name: str, version: str) -> str:
    return json.dumps({"name": name, "version": version, "license": "MIT"}) + "\n"


def test_inconsistent_versions_name_the_file_and_the_fix(
    deno_project: ExampleFactory, unique_name: str
) -> None:
    ex = deno_project(package_DOT_json=package_json(unique_name, "1.0.1"))
    r = ex.check("versions")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == "package.json says 1.0.1 but deno.json says 1.0.0"
    assert (f.file, f.hint) == ("package.json", "shipit version sync")


def test_consistent_versions_across_manifests(
    deno_project: ExampleFactory, unique_name: str
) -> None:
    ex = deno_project(package_DOT_json=package_json(unique_name, "1.0.0"))
    r = ex.check("versions")
    assert r.status is Status.PASSED, r.findings
    assert r.summary.startswith("1.0.0 in 2 source(s)")


def test_version_must_be_greater_than_the_last_release(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    ex.repo.git("tag", "-a", "v1.2.0", "-m", "Release v1.2.0")
    ex.commit("later work", {"more.ts": "export const more = 1;\n"})
    r = ex.check("versions")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == "version 1.0.0 is not greater than the last release v1.2.0"
    assert (f.file, f.hint) == ("deno.json", "shipit version set 1.2.1")

    ex.commit(
        "bump",
        {"deno.json": ex.path.joinpath("deno.json").read_text().replace('"1.0.0"', '"1.3.0"')},
    )
    ok = ex.check("versions")
    assert ok.status is Status.PASSED, ok.findings
    assert ok.summary.startswith("1.3.0 in 1 source(s), after v1.2.0")


def test_invalid_version_for_the_registries(deno_project: ExampleFactory) -> None:
    ex = deno_project(version="1.0")
    r = ex.check("versions")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == (
        "deno.json states version 1.0, which is not SemVer "
        "(npm and JSR read it as MAJOR.MINOR.PATCH[-pre])"
    )
    assert (f.file, f.line, f.hint) == ("deno.json", 3, "shipit version set 1.0.0")


def test_bad_jsr_and_github_tokens_reported_together(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    r = ex.check("registry", env={"JSR_TOKEN": "jsr-wrong-token", "GITHUB_TOKEN": "ghp_wrong"})
    assert r.status is Status.FAILED
    msgs = sorted(f.message for f in r.findings)
    assert len(msgs) == 2, msgs
    assert msgs[0] == "GitHub rejected GITHUB_TOKEN (Bad credentials)"
    assert msgs[1].startswith("JSR at http://127.0.0.1:") and msgs[1].endswith(
        "rejected JSR_TOKEN (The provided bearer token is invalid.)"
    )
    text = json.dumps([f.to_json() for f in r.findings])
    assert "jsr-wrong-token" not in text and "ghp_wrong" not in text


def test_github_repository_the_token_cannot_see(deno_project: ExampleFactory) -> None:
    ex = deno_project()
    r = ex.check("registry", env={"GITHUB_REPOSITORY": "someone/else"})
    [f] = r.findings
    assert f.message == "the repository someone/else does not exist or the token cannot see it"


def test_jsr_version_published_with_the_same_files_is_resumable(
    deno_project: ExampleFactory,
) -> None:
    ex = deno_project()
    done = subprocess.run(
        ["deno", "publish", "--token", ex.env["JSR_TOKEN"], "--no-provenance"],
        cwd=ex.path,
        env={**ex.env, "PATH": ex.env["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    versions, registry = ex.report("versions", "registry").results
    assert versions.status is Status.PASSED, versions.findings
    assert "jsr has 1.0.0 with this content: resumable" in versions.summary
    assert registry.status is Status.PASSED, registry.findings
    assert "is already published with identical content: the release can be resumed" in (
        registry.summary
    )

    ex.commit("change without bump", {"mod.ts": "export const changed = 1;\n"})
    versions, registry = ex.report("versions", "registry").results
    assert versions.status is Status.FAILED
    assert versions.findings[0].message == (
        f"@shipit-test/{ex.name} 1.0.0 is already published on jsr with other content"
    )
    assert registry.status is Status.FAILED
