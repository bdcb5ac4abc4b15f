"""Every configured command gets the release's version and tag (text and environment)."""

from __future__ import annotations

from pathlib import Path

from shipit.config import Config, PypiConfig
from shipit.engine.step import make_context
from shipit.project.model import Project
from shipit.steps.pypi import PypiBuild, _build_env


def test_pypi_build_command_gets_version_tag_and_outdir(tmp_path: Path) -> None:
    config = Config(
        pypi=PypiConfig(build_command="hatch build -t wheel {outdir} # {version} {tag}")
    )
    ctx = make_context(
        root=tmp_path,
        config=config,
        project=Project(tmp_path, (), (), None),
        version="1.5.0-rc.2",
        commit="c" * 40,
        env={"PATH": "/usr/bin"},
    )
    argv = PypiBuild()._argv(ctx)
    assert argv[-1] == f"hatch build -t wheel {ctx.dist_dir / 'pypi'} # 1.5.0-rc.2 v1.5.0-rc.2"
    env = _build_env(ctx)
    assert env["SHIPIT_VERSION"] == "1.5.0-rc.2" and env["SHIPIT_TAG"] == "v1.5.0-rc.2"
    # hatch-vcs / setuptools-scm build the release's version, not a dev version of the last tag
    assert env["SETUPTOOLS_SCM_PRETEND_VERSION"] == "1.5.0rc2"
