"""Every check on a real Python project: mypy, ruff, pytest with coverage.py, pypiserver."""

from __future__ import annotations

import json

from shipit.checks.base import Status

from .conftest import FIXTURES, PY_INIT, ExampleFactory

GOOD = "[tool.shipit.checks.test]\nmin-coverage = 90\n"


def test_good_python_project_passes_every_check(
    python_project: ExampleFactory, module_name: str
) -> None:
    ex = python_project(tool_shipit=GOOD)
    report = ex.report()
    by = {r.name: r for r in report.results}
    statuses = {n: str(r.status) for n, r in by.items()}
    assert statuses == {
        "git": "passed",
        "versions": "passed",
        "typecheck": "passed",
        "lint": "passed",
        "test": "passed",
        "security": "passed",
        "secrets": "passed",
        "registry": "passed",
    }, {n: (r.summary, r.findings) for n, r in by.items()}
    assert by["typecheck"].summary == "no type errors (mypy)"
    assert by["test"].summary == "tests passed, coverage 100.0% (bar 90%)"
    assert "pypi: token accepted by " in by["registry"].summary
    # a project without dependencies: pip-audit is not started (it would build a virtualenv
    # to install nothing)
    assert by["security"].summary == "nothing to audit: pyproject.toml declares no dependencies"


def test_mypy_type_error(python_project: ExampleFactory, module_name: str) -> None:
    ex = python_project(
        files={
            f"src/{module_name}/__init__.py": PY_INIT + "\n\ndef bad() -> int:\n    return 'x'\n"
        }
    )
    r = ex.check("typecheck")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert (f.file, f.line) == (f"src/{module_name}/__init__.py", 13)
    assert f.message.startswith('Incompatible return value type (got "str", expected "int")')


def test_ruff_lint_error(python_project: ExampleFactory, module_name: str) -> None:
    ex = python_project(files={f"src/{module_name}/util.py": "import os\n"})
    r = ex.check("lint")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert (f.file, f.line) == (f"src/{module_name}/util.py", 1)
    assert f.message.startswith("F401")


def test_failing_pytest(python_project: ExampleFactory, module_name: str) -> None:
    ex = python_project(
        files={
            "tests/test_more.py": f"from {module_name} import add\n\n\n"
            "def test_add_wrong() -> None:\n    assert add(1, 1) == 3\n"
        }
    )
    r = ex.check("test")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message.startswith("test failed: tests/test_more.py::test_add_wrong (assert")
    assert f.file == "tests/test_more.py"
    assert r.log_path is not None and "test_add_wrong" in r.log_path.read_text()


def test_coverage_py_below_the_bar(python_project: ExampleFactory, module_name: str) -> None:
    extra = "".join(
        f"\n\ndef f{i}(x: int) -> int:\n    y = x + {i}\n    return y\n" for i in range(8)
    )
    ex = python_project(tool_shipit=GOOD, files={f"src/{module_name}/more.py": extra.lstrip()})
    r = ex.check("test")
    assert r.status is Status.FAILED, r
    [f] = r.findings
    assert f.file == ".shipit/checks/coverage/coverage.json"
    measured = f.message.split(" ")[2]
    assert float(measured.rstrip("%")) < 90
    assert r.summary == f"coverage {measured} is below the bar of 90%"


def test_pip_audit_report_from_a_configured_scanner(python_project: ExampleFactory) -> None:
    cmd = f"cat {FIXTURES / 'pip-audit-vulnerable.json'}"
    ex = python_project(tool_shipit=f'[tool.shipit.checks.security]\ncommand = "{cmd}"\n')
    r = ex.check("security")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message.startswith("unknown severity: requests==2.19.0: The Requests package")
    assert f.hint == "upgrade requests to 2.20.0"


def test_pypi_token_shape(python_project: ExampleFactory) -> None:
    ex = python_project()
    r = ex.check("registry", env={"PYPI_TOKEN": "hunter2-not-a-token"})
    assert r.status is Status.FAILED
    [f] = [f for f in r.findings if "PyPI" in f.message]
    assert (
        f.message == "the PyPI token does not look like an API token (it must start with `pypi-`)"
    )
    assert "hunter2-not-a-token" not in json.dumps([x.to_json() for x in r.findings])


def test_a_wrong_but_well_formed_pypi_token_fails_the_registry_check(
    python_project: ExampleFactory, pypiserver: object
) -> None:
    """It passed as "token present" and the release then published npm and JSR before
    PyPI answered 403; the upload endpoint is now asked, and nothing is uploaded."""
    ex = python_project()
    wrong = "pypi-AgEIcHlwaS5vcmcWRONGbutWELLformed0123456789"
    r = ex.check("registry", env={"PYPI_TOKEN": wrong})
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message.startswith("the package index at http://127.0.0.1:")
    assert f.message.endswith("rejected PYPI_TOKEN (user __token__): 403 Forbidden"), f.message
    assert f.hint is not None and "export PYPI_TOKEN=pypi-" in f.hint
    assert wrong not in json.dumps(f.to_json())
    # the probe created nothing on the index
    assert ex.check("registry").status is Status.PASSED


def test_pypi_credentials_in_the_upload_url_are_verified_too(
    python_project: ExampleFactory, pypiserver: object
) -> None:
    ex = python_project()
    url = ex.env["TWINE_REPOSITORY_URL"]
    token = ex.env["PYPI_TOKEN"]
    with_password = url.replace("http://", f"http://__token__:{token}@")
    env = {"TWINE_REPOSITORY_URL": with_password, "PYPI_TOKEN": "", "TWINE_PASSWORD": ""}
    r = ex.check("registry", env=env)
    assert r.status is Status.PASSED, r.findings
    assert f"pypi: token accepted by {url}" in r.summary and token not in r.summary
    bad = url.replace("http://", "http://__token__:pypi-not-this-one@")
    r = ex.check("registry", env={**env, "TWINE_REPOSITORY_URL": bad})
    [f] = r.findings
    assert "rejected the password in the upload URL" in f.message
    assert "pypi-not-this-one" not in f.message
