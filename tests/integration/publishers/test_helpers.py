"""The publishers' pure helpers: registry keys, URLs derived from settings, output parsing."""

from __future__ import annotations

from pathlib import Path

from shipit.config import Config, PypiConfig, Settings
from shipit.engine.step import Context
from shipit.errors import OutcomeUnknown, PermanentError, TransientError
from shipit.project.model import Project
from shipit.steps import jsr, pypi
from shipit.steps._npmrc import auth_env, nerf_dart, public_url, userconfig
from shipit.steps._output import relevant_lines
from shipit.steps.npm import classify, tarball_filename


def _ctx(env: dict[str, str], config: Config | None = None) -> Context:
    cfg = config or Config()
    root = Path("/nonexistent")
    return Context(
        root=root,
        config=cfg,
        settings=Settings.from_env(env, cfg),
        project=Project(root=root, ecosystems=(), sources=(), canonical=None),
        version="1.2.0-rc.1",
        tag="v1.2.0-rc.1",
        commit="0" * 40,
        release_dir=root / ".shipit" / "releases" / "v1.2.0-rc.1",
        env=env,
    )


def test_npm_names_and_keys() -> None:
    assert nerf_dart("http://127.0.0.1:4873/") == "//127.0.0.1:4873/"
    assert nerf_dart("https://npm.example.com/api/npm/registry") == "//npm.example.com/api/npm/"
    assert tarball_filename("@scope/pkg", "1.0.0") == "scope-pkg-1.0.0.tgz"


def test_private_npmrc_is_0600_and_removed(tmp_path: Path) -> None:
    with userconfig("http://127.0.0.1:4873/", "tok-abcdef-123") as rc:
        assert rc.stat().st_mode & 0o777 == 0o600
        assert "//127.0.0.1:4873/:_authToken=tok-abcdef-123" in rc.read_text()
    assert not rc.exists()


def test_a_registry_url_password_goes_into_the_private_npmrc_not_the_command_line() -> None:
    registry = "https://dana:p%40ss-Qw7@npm.example/repo/"
    assert public_url(registry) == "https://npm.example/repo/"
    with userconfig(registry, None) as rc:
        text = rc.read_text()
    assert text == (
        "registry=https://npm.example/repo/\n"
        "//npm.example/repo/:username=dana\n"
        "//npm.example/repo/:_password=cEBzcy1Rdzc=\n"  # base64 of the unquoted password
    )
    with auth_env("https://npm.example/", None) as env:
        assert env == {}
    with auth_env(registry, "tok-zz-1234") as env:
        assert "tok-zz-1234" in Path(env["NPM_CONFIG_USERCONFIG"]).read_text()


def test_npm_error_codes_are_classified() -> None:
    def c(code: str | None, lines: str = "") -> object:
        return classify(code, "", lines, registry="http://r/", what="w", name="p")

    assert isinstance(c("E401"), PermanentError)
    assert str(c("E401")).startswith("npm rejected the token for http://r/: E401")
    assert isinstance(c("E403"), PermanentError)
    assert isinstance(c("E429"), TransientError) and not isinstance(c("E429"), OutcomeUnknown)
    assert isinstance(c("E503"), OutcomeUnknown)
    assert isinstance(c("ECONNRESET"), OutcomeUnknown)
    assert isinstance(c("ECONNREFUSED"), TransientError)
    assert isinstance(c(None, "npm error socket hang up"), OutcomeUnknown)
    assert isinstance(c("EBADPLATFORM"), PermanentError)


def test_the_pypi_step_reads_and_uploads_where_the_settings_say() -> None:
    # the derivation itself is tested in tests/unit/registries/test_pypi.py
    local = {"TWINE_REPOSITORY_URL": "http://127.0.0.1:8080"}
    assert pypi.upload_url(_ctx(local)) == "http://127.0.0.1:8080/"
    assert pypi.index_url(_ctx(local)) == "http://127.0.0.1:8080/simple/"
    configured = Config(pypi=PypiConfig(index_url="https://mirror.example.com/simple"))
    assert pypi.index_url(_ctx(local, configured)) == "https://mirror.example.com/simple/"
    assert pypi.pep440(_ctx({})) == "1.2.0rc1"


def test_the_jsr_step_publishes_where_jsr_url_says() -> None:
    assert jsr.jsr_url(_ctx({})) == "https://jsr.io/"
    assert jsr.jsr_url(_ctx({"JSR_URL": "http://127.0.0.1:9000"})) == "http://127.0.0.1:9000/"


def test_relevant_lines_pick_the_errors_and_drop_markup() -> None:
    out = "Uploading x.whl\n<html>\n<h1>Error</h1>\nERROR HTTPError: 403 Forbidden\nbye\n"
    assert relevant_lines(out) == "ERROR HTTPError: 403 Forbidden"
