"""The secrets check reads exactly what each registry would receive: JSR's include/exclude
set from deno.json, the files a wheel/sdist can hold, npm's pack list."""

from __future__ import annotations

import json

from shipit.checks import catalog
from shipit.checks.base import Status
from shipit.checks.secrets import SecretsCheck
from shipit.config import load
from shipit.project.detect import detect
from shipit.settings import Settings

from .conftest import ExampleFactory

DOTENV = "# local\nJSR_TOKEN=jsr_8Hq2vLm4Zx9Rt6Yw3Pb1Nc7Kd5Jf0Sg2\n"


def test_env_file_in_the_jsr_package(deno_project: ExampleFactory) -> None:
    ex = deno_project(_DOT_env=DOTENV)
    r = ex.check("secrets")
    assert r.status is Status.FAILED
    f = r.findings[0]
    assert f.message == ".env is an environment file and would be published to jsr"
    assert (f.file, f.line) == (".env", 2)
    assert (
        f.hint == 'take .env out of the JSR package: "publish": {"exclude": [".env"]} in deno.json'
    )


def test_jsr_publish_exclude_is_honoured(deno_project: ExampleFactory, unique_name: str) -> None:
    deno_json = {
        "name": f"@shipit-test/{unique_name}",
        "version": "1.0.0",
        "exports": "./mod.ts",
        "license": "MIT",
        "publish": {"exclude": [".env"]},
    }
    ex = deno_project(_DOT_env=DOTENV, deno_DOT_json=json.dumps(deno_json))
    r = ex.check("secrets")
    assert r.status is Status.PASSED, r.findings
    assert r.summary == "no secrets in 5 jsr files"  # deno.json LICENSE README mod mod_test


def test_env_file_in_a_python_package(python_project: ExampleFactory, unique_name: str) -> None:
    ex = python_project(
        files={
            ".env.production": "PYPI_TOKEN=pypi-AgEIcHlwaS5vcmcCJGFiY2RlZg\n",
            "MANIFEST.in": "include .env.production\n",  # so the sdist really holds it
        }
    )
    r = ex.check("secrets")
    assert r.status is Status.FAILED
    f = r.findings[0]
    assert f.message.endswith(
        "/.env.production is an environment file and would be published to pypi"
    )
    sdist = f"{unique_name.replace('-', '_')}-1.0.0.tar.gz"
    assert (f.file, f.line) == (f"{sdist}!{unique_name.replace('-', '_')}-1.0.0/.env.production", 1)
    # the fix takes it out of the package the way setuptools selects files (a tracked file
    # stays tracked whatever .gitignore says)
    assert f.hint == "take .env.production out of the sdist: remove its line from MANIFEST.in"


def test_untracked_env_file_is_not_in_a_setuptools_sdist(python_project: ExampleFactory) -> None:
    ex = python_project(files={".env.production": "PYPI_TOKEN=pypi-AgEIcHlwaS5vcmcCJGFiY2RlZg\n"})
    r = ex.check("secrets")  # setuptools packs only the package and its MANIFEST.in files
    assert r.status is Status.PASSED, r.findings
    assert r.summary.startswith("no secrets in ") and r.summary.endswith(" pypi files")


def test_gitignored_env_is_not_in_a_python_package(python_project: ExampleFactory) -> None:
    from .conftest import PY_GITIGNORE

    ex = python_project(files={".env": "X=1\n", ".gitignore": PY_GITIGNORE + ".env\n"})
    r = ex.check("secrets")
    assert r.status is Status.PASSED, r.findings


def test_files_beside_the_binaries(deno_project: ExampleFactory) -> None:
    ex = deno_project(shipit_toml='[binaries]\nenabled = true\nname = "hello"\n')
    dist = ex.path / ".shipit" / "releases" / "v1.0.0" / "dist"
    dist.mkdir(parents=True)
    (dist / "hello-x86_64-linux").write_bytes(b"\x7fELF\x02\x01\x01\x00" + b"\0" * 64)
    (dist / "README.txt").write_text("hello\n")
    (dist / ".env").write_text("GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n")
    r = ex.check("secrets")
    assert r.status is Status.FAILED
    files = {(f.file, f.line) for f in r.findings}
    assert (".shipit/releases/v1.0.0/dist/.env", 1) in files
    assert all("binaries" in f.message for f in r.findings)
    assert not any("hello-x86_64-linux" in (f.file or "") for f in r.findings)


def test_built_wheel_contents_are_scanned(python_project: ExampleFactory, module_name: str) -> None:
    import zipfile

    ex = python_project()
    dist = ex.path / ".shipit" / "releases" / "v1.0.0" / "dist"
    dist.mkdir(parents=True)
    wheel = dist / f"{module_name}-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{module_name}/__init__.py", "x = 1\n")
        zf.writestr(
            f"{module_name}/.env",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        )
    r = ex.check("secrets")
    assert r.status is Status.FAILED
    names = {f.file for f in r.findings}
    assert f"{wheel.name}!{module_name}/.env" in names
    assert "wJalrXUtnFEMI" not in " ".join(f.message for f in r.findings)


def test_scanning_the_python_package_leaves_no_egg_info_behind(
    python_project: ExampleFactory,
) -> None:
    # a project whose .gitignore does not hide *.egg-info: the sdist build of the scan must
    # not make its tree dirty (the release's own git check and `deno publish` would refuse)
    ex = python_project(files={".gitignore": "__pycache__/\n.mypy_cache/\n.pytest_cache/\n"})
    r = ex.check("secrets")
    assert r.status is Status.PASSED, r.findings
    assert not list(ex.path.glob("src/*.egg-info")) and not list(ex.path.glob("*.egg-info"))
    assert ex.repo.git("status", "--porcelain") == ""


def test_a_release_leaves_what_it_builds_to_its_gate(python_project: ExampleFactory) -> None:
    """In a release the sdist and wheel are built once, by pypi:build, and gate:release scans
    them: the checks step's secrets check does not build them a second time beside it."""
    ex = python_project(
        files={
            ".env.production": "PYPI_TOKEN=pypi-AgEIcHlwaS5vcmcCJGFiY2RlZg\n",
            "MANIFEST.in": "include .env.production\n",
        }
    )
    config = load(ex.path).config
    project = detect(ex.path, config, ex.env)
    ctx = catalog.build_context(ex.path, config, Settings.from_env(ex.env, config), project, ex.env)
    ctx.scanned_when_built = frozenset({"pypi"})
    r = SecretsCheck().run(ctx)
    assert r.status is Status.SKIPPED, r.findings
    assert r.summary == "pypi: scanned by the release once built"
    assert not list(ex.path.glob(".shipit/releases/*/dist/pypi/*"))  # nothing was built
    assert ex.check("secrets").status is Status.FAILED  # `shipit check` still builds and scans
