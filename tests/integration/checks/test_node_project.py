"""Every check on a real Node project, with real npm against the sandbox's verdaccio."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from shipit.checks.base import Status

from .conftest import FIXTURES, ExampleFactory

CLEAN_AUDIT = f'[checks.security]\ncommand = "cat {FIXTURES / "npm-audit-clean.json"}"\n'
LOCK = {
    "name": "x",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {"name": "x", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"}},
        "node_modules/left-pad": {
            "version": "1.3.0",
            "resolved": "http://127.0.0.1:9/left-pad/-/left-pad-1.3.0.tgz",
            "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEKCt7ggNtJ9dcugmmN2G"
            "tlDcf6OCS6b7XUa7cpOHCOvMTA==",
        },
    },
}


def npm_publish(path: Path, env: dict[str, str], npmrc: str, tmp: Path) -> None:
    rc = tmp / "publish.npmrc"
    rc.write_text(npmrc)
    subprocess.run(
        ["npm", "publish", "--ignore-scripts"],
        cwd=path,
        env={**env, "NPM_CONFIG_USERCONFIG": str(rc)},
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_good_node_project_passes_every_check(node_project: ExampleFactory) -> None:
    ex = node_project(shipit_toml=CLEAN_AUDIT)
    report = ex.report()
    by = {r.name: r for r in report.results}
    assert {n: str(r.status) for n, r in by.items()} == {
        "git": "passed",
        "versions": "passed",
        "typecheck": "skipped",
        "lint": "passed",
        "test": "passed",
        "security": "passed",
        "secrets": "passed",
        "registry": "passed",
    }, {n: (r.summary, r.findings) for n, r in by.items()}
    assert by["typecheck"].summary.startswith(
        "no `typecheck` script in package.json and no tsconfig.json; to run it: add"
    )
    assert "npm: token accepted (user " in by["registry"].summary
    assert f"npm: {ex.name} 1.0.0 not published yet" in by["registry"].summary
    # README.md, index.js, package.json, shipit.toml, test/index.test.js; not .shipit/ logs
    assert by["secrets"].summary == "no secrets in 5 npm files"


def test_failing_node_test_is_named(node_project: ExampleFactory) -> None:
    ex = node_project(
        files={
            "test/more.test.js": 'const test = require("node:test");\n'
            'const assert = require("node:assert");\n'
            'test("subtracts", () => { assert.strictEqual(3 - 1, 1); });\n'
        }
    )
    r = ex.check("test")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message == "test failed: subtracts (Expected values to be strictly equal:)"
    assert (f.file, f.line) == ("test/more.test.js", 3)
    assert r.summary == "1 failing test from `npm test`"


def test_env_file_with_token_in_the_npm_package(node_project: ExampleFactory) -> None:
    ex = node_project(
        files={".env": "# local settings\nNPM_TOKEN=npm_a8Fk2LmQ9zXv7Rt3Yw6Pb1Nc4Hd5Je0Sg8Ku\n"}
    )
    r = ex.check("secrets")
    assert r.status is Status.FAILED
    env_rule = [f for f in r.findings if f.message.startswith(".env is an environment file")]
    assert env_rule, r.findings
    assert (env_rule[0].file, env_rule[0].line) == (".env", 2)
    assert env_rule[0].message == ".env is an environment file and would be published to npm"
    assert env_rule[0].hint and ".npmignore" in env_rule[0].hint
    detected = [f for f in r.findings if f.message.startswith("possible secret")]
    assert detected and all(f.file == ".env" and f.line == 2 for f in detected)
    text = json.dumps([f.to_json() for f in r.findings]) + r.summary
    assert "npm_a8Fk2LmQ9zXv7Rt3Yw6Pb1Nc4Hd5Je0Sg8Ku" not in text
    assert r.log_path is not None and ".env" in r.log_path.read_text()


def test_secret_in_source_and_npmignore_respected(node_project: ExampleFactory) -> None:
    ex = node_project(
        files={
            "lib/config.js": "module.exports = {\n"
            '  token: "ghp_16C7e42F292c6912E7710c838347Ae178B4a",\n};\n',
            "private.env": "x\n",
            ".env": "API_KEY=abc\n",
            ".npmignore": ".env\n",
        }
    )
    r = ex.check("secrets")
    assert r.status is Status.FAILED
    assert [(f.file, f.line) for f in r.findings] == [("lib/config.js", 2)]
    assert r.findings[0].message == (
        "possible secret (GitHub Token) in lib/config.js:2, published to npm"
    )


def test_vulnerable_dependency_from_npm_audit_json(node_project: ExampleFactory) -> None:
    cmd = f"cat {FIXTURES / 'npm-audit-vulnerable.json'}; exit 1"
    ex = node_project(shipit_toml=f'[checks.security]\ncommand = "{cmd}"\n')
    r = ex.check("security")
    assert r.status is Status.FAILED
    assert r.summary == "1 vulnerability at or above high severity"
    [f] = r.findings
    assert f.message == (
        "critical severity: minimist@<0.2.4: Prototype Pollution in minimist "
        "[https://github.com/advisories/GHSA-xvch-5gv4-984h]"
    )
    assert f.hint == "npm audit fix --force (installs minimist@1.2.8)"

    ex.commit(
        "stricter",
        {"shipit.toml": f'[checks.security]\ncommand = "{cmd}"\nseverity = "moderate"\n'},
    )
    assert len(ex.check("security").findings) == 2

    ex.commit(
        "laxer", {"shipit.toml": f'[checks.security]\ncommand = "{cmd}"\nseverity = "critical"\n'}
    )
    lax = ex.check("security")
    assert lax.status is Status.FAILED and len(lax.findings) == 1


def test_sarif_scanner(node_project: ExampleFactory) -> None:
    cmd = f"cat {FIXTURES / 'osv-scanner.sarif'}"
    ex = node_project(shipit_toml=f'[checks.security]\ncommand = "{cmd}"\n')
    r = ex.check("security")
    assert r.status is Status.FAILED
    [f] = r.findings
    assert f.message.startswith("high severity: GHSA-35jh-r3h4-6jhm: lodash 4.17.15 is affected")
    assert (f.file, f.line) == ("package-lock.json", 14)


def test_real_npm_audit_without_its_database_is_an_error(node_project: ExampleFactory) -> None:
    ex = node_project(
        files={"package-lock.json": json.dumps(LOCK)},
        package={"dependencies": {"left-pad": "1.3.0"}},
    )
    r = ex.check("security", env={"NPM_CONFIG_REGISTRY": "http://127.0.0.1:9/"})
    assert r.status is Status.ERROR, (r.summary, r.findings)
    assert r.summary.startswith("`npm audit --json` could not reach its vulnerability database")
    assert "ECONNREFUSED" in r.summary
    assert r.findings[0].hint and "this is not a pass" in r.findings[0].hint


def test_scanner_printing_garbage_is_an_error(node_project: ExampleFactory) -> None:
    ex = node_project(shipit_toml='[checks.security]\ncommand = "echo all good"\n')
    r = ex.check("security")
    assert r.status is Status.ERROR
    assert r.summary.startswith("`echo all good` printed no report shipit can read")


def test_version_already_published(
    node_project: ExampleFactory, verdaccio: object, tmp_path: Path
) -> None:
    ex = node_project()
    npm_publish(ex.path, ex.env, verdaccio.npmrc(), tmp_path)  # type: ignore[attr-defined]

    same = ex.report("versions", "registry")
    versions, registry = same.results
    assert versions.status is Status.PASSED, versions.findings
    assert "npm has 1.0.0 with this content: resumable" in versions.summary
    assert registry.status is Status.PASSED, registry.findings
    assert (
        f"npm: {ex.name} 1.0.0 is already published with identical content: "
        "the release can be resumed (shipit resume)"
    ) in registry.summary

    ex.commit("change without a version bump", {"index.js": "module.exports = {};\n"})
    other = ex.report("versions", "registry")
    versions, registry = other.results
    assert versions.status is Status.FAILED
    [f] = versions.findings
    assert f.message == f"{ex.name} 1.0.0 is already published on npm with other content"
    assert (f.file, f.hint) == ("package.json", "shipit version set 1.0.1")
    assert registry.status is Status.FAILED
    assert registry.findings[0].message == (
        f"{ex.name} 1.0.0 is already published on npm with different content"
    )


def test_bad_and_missing_npm_token(node_project: ExampleFactory) -> None:
    ex = node_project()
    bad = "npm_not-a-real-token-0123456789"
    r = ex.check("registry", env={"NPM_TOKEN": bad})
    assert r.status is Status.FAILED
    npm = [f for f in r.findings if "NPM_TOKEN" in f.message]
    assert npm and npm[0].message.startswith("the npm registry http://127.0.0.1:")
    assert npm[0].message.endswith("did not accept NPM_TOKEN (whoami names no user)")
    assert npm[0].hint == "create a new token (npm token create) and export NPM_TOKEN=<token>"
    assert bad not in json.dumps([f.to_json() for f in r.findings])

    env = {k: v for k, v in ex.env.items() if k not in ("NPM_TOKEN", "NODE_AUTH_TOKEN")}
    ex.env = env
    r = ex.check("registry")
    assert r.findings[0].message.startswith("no npm token for http://127.0.0.1:")


def test_type_checker_the_project_does_not_install_is_not_run(
    node_project: ExampleFactory,
) -> None:
    ex = node_project(files={"tsconfig.json": '{"compilerOptions": {"strict": true}}\n'})
    r = ex.check("typecheck")
    assert r.status is Status.SKIPPED
    assert r.summary == (
        "tsconfig.json exists but typescript is not among package.json's dependencies; "
        'to run it: add a "typecheck": "tsc --noEmit" script to package.json'
    )


def test_dependencies_not_installed_is_an_error_naming_the_install_command(
    node_project: ExampleFactory,
) -> None:
    ex = node_project(
        files={"tsconfig.json": '{"compilerOptions": {"strict": true}}\n'},
        package={"devDependencies": {"typescript": "5.9.3"}},
    )
    r = ex.check("typecheck")
    assert r.status is Status.ERROR  # never a pass, and tsc is not even started
    [f] = r.findings
    assert f.message == "the Node dependencies are not installed (no node_modules)"
    assert f.hint == "run `npm install`"  # no lockfile: npm ci would refuse


def test_configured_command_and_its_parser(node_project: ExampleFactory) -> None:
    ex = node_project(
        shipit_toml='[checks.lint]\ncommand = "node --check broken.js"\n',
        files={"broken.js": "function (\n"},
    )
    r = ex.check("lint")
    assert r.status is Status.FAILED
    assert r.summary == "`node --check broken.js` exited with 1 (its first lines below)"
    messages = [f.message for f in r.findings]  # not recognised: shown as they are
    assert "SyntaxError: Function statements require a function name" in messages
    assert messages[0].endswith("broken.js:1") and messages[1] == "function ("
