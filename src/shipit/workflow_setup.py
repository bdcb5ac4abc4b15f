"""What each job of the release workflow installs, read from the project's own files.

A runner starts empty. The plan job runs ``shipit check`` (the project's tests, linters and
type checks) and the publish job runs ``shipit release`` (the same checks again, then
``npm pack``, ``deno publish``, the wheel build): both need the project's toolchains and its
dependencies. A build job needs only the compiler of its ``[binaries]`` preset. Every job
needs shipit itself, installed with pipx into its own environment (shipit's dependencies
never meet the project's) at the version that wrote the workflow.

- **Node** when the project has a ``package.json`` or publishes to npm: ``actions/setup-node``
  with the version the project names (``[ci] node-version``, ``.nvmrc``, ``.node-version``,
  package.json's ``volta.node`` / ``devEngines`` / ``engines.node``; else Node 24, whose npm
  can publish with trusted publishing), pnpm through ``pnpm/action-setup`` and Yarn 2+
  through corepack, then the lockfile's install (``npm ci``, ``pnpm install
  --frozen-lockfile``, ``yarn install --immutable``). The dependency cache is used by the
  plan job only: the jobs that build or publish what users download never restore a cache
  another workflow could have written (setup-node's own advice for publishing workflows).
- **Deno** when the project has a ``deno.json`` or publishes to JSR (and on build runners
  for the ``deno`` preset): ``denoland/setup-deno`` with ``[ci] deno-version``, a
  ``.dvmrc`` / ``.deno-version`` / ``.tool-versions`` file or deno.json's ``engines.deno``.
- **Python** dependencies when the checks run Python tools: ``uv sync --locked`` for a
  ``uv.lock``, ``poetry install`` for a ``poetry.lock``, else pip with the development
  extras, dependency groups and requirement files the project declares, or (when it declares
  none) the project and the tools the checks run; tox, nox and hatch through pipx.

Everything here is read from files in the repository, never from the environment, so
``shipit ci check`` on a runner computes what it computed on the developer's machine.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shipit import __version__
from shipit.config import Config, Settings
from shipit.errors import ConfigError
from shipit.project import manifests, tooling
from shipit.project.model import Project
from shipit.workflow_actions import (
    SETUP_DENO,
    SETUP_NODE,
    SETUP_PNPM,
    SETUP_PYTHON,
    SETUP_UV,
)

PACKAGE = "shipit-release"
NODE_DEFAULT = "24"  # its npm (>= 11.5.1) publishes with trusted publishing
DENO_DEFAULT = "v2.x"
NPM_TRUSTED_MIN = "11.5.1"
NODE_VERSION_FILES = (".nvmrc", ".node-version")
DENO_VERSION_FILES = (".dvmrc", ".deno-version")
#: Extras, dependency groups and requirement files that hold what development needs.
DEV_NAMES = ("dev", "develop", "test", "tests", "testing", "lint", "typing", "types", "mypy")
DEV_REQUIREMENTS = (
    "requirements-dev.txt",
    "requirements_dev.txt",
    "dev-requirements.txt",
    "requirements/dev.txt",
    "requirements-test.txt",
    "test-requirements.txt",
    "requirements/test.txt",
)
#: The PyPI package of each Python tool a check preset runs.
PYTHON_TOOLS = {
    "pytest": "pytest",
    "mypy": "mypy",
    "pyright": "pyright",
    "ruff": "ruff",
    "flake8": "flake8",
}
RUNNERS = ("tox", "nox", "hatch")  # they make their own environments: installed with pipx
TOOL_CHECKS = ("typecheck", "lint", "test")
#: pnpm major that reads a lockfile version, when package.json has no ``packageManager``.
PNPM_FOR_LOCKFILE = {"9": "10", "6": "8", "5": "7"}


# ---------------------------------------------------------------- what the project needs


@dataclass(frozen=True)
class NodeSetup:
    """Node.js for the plan and publish jobs. Paths are relative to the repository."""

    version: str = ""  # node-version ("" when version_file names it)
    version_file: str = ""  # node-version-file: .nvmrc, .node-version or package.json
    manager: str = "npm"  # npm, pnpm or yarn
    lockfile: str = ""
    install: str = ""  # the command that installs the dependencies ("" when there are none)
    install_dir: str = ""  # where it runs when not in the project (a workspace's top)
    pnpm_version: str = ""  # pnpm/action-setup `version` ("" when packageManager names it)
    package_json: str = ""  # the package.json pnpm/action-setup reads packageManager from
    corepack: bool = False  # Yarn 2+ comes from corepack (package.json's packageManager)
    registry_url: str = ""  # the publish job's npm registry ("" when npm is not published)
    npm_upgrade: bool = False  # publish job: make sure npm >= 11.5.1 (trusted publishing)

    @property
    def cache(self) -> str:
        """setup-node's `cache` for the plan job: the manager, when a lockfile keys it."""
        return self.manager if self.lockfile and not self.corepack else ""


@dataclass(frozen=True)
class DenoSetup:
    """Deno, and which jobs set it up (plan and publish for the checks and JSR, build for
    the ``deno`` preset)."""

    version: str = ""
    version_file: str = ""
    jobs: tuple[str, ...] = ()


@dataclass(frozen=True)
class PythonSetup:
    """The Python dependencies the checks need, for the plan and publish jobs."""

    manager: str  # uv, poetry or pip
    install: tuple[str, ...]  # commands, in order ("" pip install when nothing is declared)
    runners: tuple[str, ...] = ()  # tox, nox, hatch: installed with pipx
    source: str = ""  # what the install step installs, in words


def _rel(path: Path, repo_root: Path) -> str:
    try:
        return path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return path.name


def _upwards(start: Path, repo_root: Path) -> list[Path]:
    """``start`` and its parents up to the repository's top (a monorepo keeps lockfiles and
    version files there)."""
    start, top = start.resolve(), repo_root.resolve()
    out = [start]
    if top in start.parents:
        for parent in start.parents:
            out.append(parent)
            if parent == top:
                break
    return out


def _json(path: Path) -> dict[str, Any]:
    try:
        return manifests.read_json(path) if path.is_file() else {}
    except (ConfigError, OSError):  # unreadable: detection reports it, not this
        return {}


def _names_node(package: dict[str, Any]) -> bool:
    """True when package.json names a Node version setup-node reads."""
    volta = package.get("volta")
    if isinstance(volta, dict) and volta.get("node"):
        return True
    dev = package.get("devEngines")
    runtime = dev.get("runtime") if isinstance(dev, dict) else None
    entries = runtime if isinstance(runtime, list) else [runtime]
    if any(
        isinstance(e, dict) and str(e.get("name", "")).lower() == "node" and e.get("version")
        for e in entries
    ):
        return True
    engines = package.get("engines")
    return isinstance(engines, dict) and bool(engines.get("node"))


def _yarn_berry(directory: Path, package_manager: str) -> bool:
    if package_manager.startswith("yarn@"):
        major = package_manager[len("yarn@") :].split(".", 1)[0]
        return major.isdigit() and int(major) >= 2
    if (directory / ".yarnrc.yml").is_file():
        return True
    lock = directory / "yarn.lock"
    try:
        return "__metadata:" in lock.read_text(encoding="utf-8")[:2000]
    except OSError:
        return False


def _pnpm_version(lockfile: Path) -> str:
    try:
        head = lockfile.read_text(encoding="utf-8")[:200]
    except OSError:
        return "latest"
    found = re.search(r"lockfileVersion:\s*['\"]?(\d+)", head)
    return PNPM_FOR_LOCKFILE.get(found.group(1), "latest") if found else "latest"


def node_setup(config: Config, project: Project, repo_root: Path) -> NodeSetup | None:
    """Node for a project with a package.json, or one that publishes to npm."""
    npm = project.target("npm") is not None
    if "node" not in project.ecosystems and not npm:
        return None
    root = project.root
    places = _upwards(root, repo_root)
    package = _json(root / "package.json")

    version, version_file = NODE_DEFAULT, ""
    if config.ci.node_version:
        version = config.ci.node_version
    else:
        found = next((d / f for d in places for f in NODE_VERSION_FILES if (d / f).is_file()), None)
        if found is not None:
            version, version_file = "", _rel(found, repo_root)
        elif _names_node(package):
            version, version_file = "", _rel(root / "package.json", repo_root)

    lock_dir, lock_name = root, ""
    for directory in places:
        name = next((n for n in tooling.LOCKFILES if (directory / n).is_file()), None)
        if name is not None:
            lock_dir, lock_name = directory, name
            break
    owner = _json(lock_dir / "package.json") if lock_dir != root else package
    package_manager = str(owner.get("packageManager") or package.get("packageManager") or "")
    manager = tooling.Node({"packageManager": package_manager}, lock_name or None).manager
    berry = manager == "yarn" and _yarn_berry(lock_dir, package_manager)
    if lock_name:
        install = {
            "npm": "npm ci",
            "pnpm": "pnpm install --frozen-lockfile",
            "yarn": "yarn install --immutable" if berry else "yarn install --frozen-lockfile",
        }[manager]
    elif tooling.Node(package).dependencies:
        manager, berry = "npm", False
        install = "npm install --no-package-lock"  # no lockfile to follow, none written
    else:
        install = ""
    pnpm_version = ""
    if manager == "pnpm" and not package_manager.startswith("pnpm@"):
        pnpm_version = _pnpm_version(lock_dir / lock_name) if lock_name else "latest"
    trusted = npm and (config.npm.auth != "token")
    return NodeSetup(
        version=version,
        version_file=version_file,
        manager=manager,
        lockfile=_rel(lock_dir / lock_name, repo_root) if lock_name else "",
        install=install,
        install_dir=_rel(lock_dir, repo_root) if lock_name and lock_dir != root else "",
        pnpm_version=pnpm_version,
        package_json=_rel(lock_dir / "package.json", repo_root) if manager == "pnpm" else "",
        corepack=berry,
        registry_url=(config.npm.registry or "https://registry.npmjs.org") if npm else "",
        npm_upgrade=trusted and not (version == NODE_DEFAULT and not version_file),
    )


def deno_setup(
    config: Config, project: Project, repo_root: Path, *, build: bool
) -> DenoSetup | None:
    """Deno for a deno.json project or a JSR package (plan, publish), and for the deno
    preset's build jobs (``build``)."""
    checks = "deno" in project.ecosystems or project.target("jsr") is not None
    jobs = tuple(j for j, on in (("plan", checks), ("build", build), ("publish", checks)) if on)
    if not jobs:
        return None
    if config.ci.deno_version:
        return DenoSetup(version=config.ci.deno_version, jobs=jobs)
    for directory in _upwards(project.root, repo_root):
        for name in DENO_VERSION_FILES:
            if (directory / name).is_file():
                return DenoSetup(version_file=_rel(directory / name, repo_root), jobs=jobs)
        tool_versions = directory / ".tool-versions"
        try:
            if re.search(r"^deno\s", tool_versions.read_text(encoding="utf-8"), re.M):
                return DenoSetup(version_file=_rel(tool_versions, repo_root), jobs=jobs)
        except OSError:
            pass
    engines = tooling.deno(project.root).data.get("engines")
    if isinstance(engines, dict) and isinstance(engines.get("deno"), str):
        return DenoSetup(version=engines["deno"], jobs=jobs)
    return DenoSetup(version=DENO_DEFAULT, jobs=jobs)


def _check_tools(config: Config, project: Project) -> tuple[set[str], bool]:
    """The programs the enabled tool checks run (their presets), and whether one of them is a
    configured command (whose tools nothing here can name)."""
    from shipit.checks import presets
    from shipit.checks.base import CheckContext

    ctx = CheckContext(
        root=project.root,
        config=config,
        settings=Settings.from_env({}, config),
        project=project,
        env={},
        log_dir=project.root / ".shipit" / "checks",
    )
    tools: set[str] = set()
    custom = False
    for check in TOOL_CHECKS:
        settings = getattr(config.checks, check)
        if not settings.enabled:
            continue
        if settings.command:
            custom = True
            continue
        for command in presets.plan(ctx, check).commands:
            name = Path(command.argv[0]).name
            tools.add(name.removesuffix(".exe"))
    return tools, custom


def _dev_names(table: Any) -> list[str]:
    return [n for n in DEV_NAMES if isinstance(table, dict) and n in table]


def python_setup(config: Config, project: Project) -> PythonSetup | None:
    """The Python dependencies the checks of a pyproject.toml project need, or None."""
    if "python" not in project.ecosystems:
        return None
    root = project.root
    tools, custom = _check_tools(config, project)
    runners = tuple(r for r in RUNNERS if r in tools)
    packages = [PYTHON_TOOLS[t] for t in sorted(tools) if t in PYTHON_TOOLS]
    if "pytest" in tools and config.checks.test.min_coverage is not None:
        packages.append("pytest-cov")
    only_runners = PythonSetup("pip", (), runners) if runners else None
    if not packages and not custom:
        return only_runners
    if (root / "uv.lock").is_file():
        return PythonSetup("uv", ("uv sync --locked",), runners, "uv.lock (uv sync)")
    if (root / "poetry.lock").is_file():
        poetry = (
            "poetry install --no-interaction",
            # its environment's tools on PATH for the checks (outside the tree: it stays clean)
            'echo "$(poetry env info --path)/bin" >> "$GITHUB_PATH"',
        )
        return PythonSetup("poetry", poetry, runners, "poetry.lock (poetry install)")
    try:
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pyproject = {}
    installable = (
        "project" in pyproject or "build-system" in pyproject or (root / "setup.py").is_file()
    )
    project_table = pyproject.get("project")
    extras = _dev_names(
        project_table.get("optional-dependencies") if isinstance(project_table, dict) else None
    )
    groups = _dev_names(pyproject.get("dependency-groups"))
    requirements = [r for r in DEV_REQUIREMENTS if (root / r).is_file()]
    declared = [
        *(f"extra {e}" for e in extras),
        *(f"group {g}" for g in groups),
        *requirements,
    ]
    args: list[str] = []
    if installable:
        args += ["-e", _quote("." + (f"[{','.join(extras)}]" if extras else ""))]
    for group in groups:
        args += ["--group", group]
    for requirement in requirements:
        args += ["-r", requirement]
    if not declared:
        if not packages:
            return only_runners
        args += packages  # nothing declared: the tools the checks run
        declared = packages
    elif (root / "requirements.txt").is_file() and not installable:
        args += ["-r", "requirements.txt"]
        declared.append("requirements.txt")
    commands: list[str] = []
    if groups:
        commands.append('python -m pip install --upgrade "pip>=25.1"  # for --group')
    commands.append("python -m pip install " + " ".join(args))
    what = ("the project, " if installable else "") + ", ".join(declared) + " (pip)"
    return PythonSetup("pip", tuple(commands), runners, what)


def _quote(arg: str) -> str:
    return f'"{arg}"' if any(c in arg for c in "[],") else arg


def shipit_requirement(config: Config) -> tuple[str, str]:
    """What the jobs install shipit from, and a note when it is not what runs here.

    ``[ci] shipit-requirement`` wins; else the git commit or archive this shipit was
    installed from (PEP 610's ``direct_url.json``), else this version from PyPI.
    """
    if config.ci.shipit_requirement:
        return config.ci.shipit_requirement, ""
    pinned = f"{PACKAGE}=={__version__}"
    try:
        raw = metadata.distribution(PACKAGE).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return pinned, ""
    if not raw:
        return pinned, ""
    try:
        direct = json.loads(raw)
    except ValueError:
        return pinned, ""
    url = _without_credentials(str(direct.get("url", "")))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return f"{PACKAGE} @ git+{url}@{vcs['commit_id']}", ""
    archive = direct.get("archive_info")
    if isinstance(archive, dict) and url.startswith("https://"):
        hashes = archive.get("hashes")
        digest = hashes.get("sha256") if isinstance(hashes, dict) else None
        return f"{PACKAGE} @ {url}" + (f"#sha256={digest}" if digest else ""), ""
    return pinned, (
        f"this shipit runs from {url or 'a local directory'}; the workflow installs "
        f"{pinned} from PyPI (set [ci] shipit-requirement to install it from elsewhere)"
    )


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# ---------------------------------------------------------------- the steps, as YAML lines


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text)


def step_name(text: str) -> str:
    """A step's name as YAML: plain when it reads the same unquoted, else quoted."""
    plain = (
        re.fullmatch(r"[A-Za-z].*[^\s:]", text)
        and ": " not in text
        and " #" not in text
        and '"' not in text
    )
    return text if plain else q(text)


def python_steps(python: str) -> list[str]:
    """setup-python, with the id whose output names the interpreter pipx installs shipit for."""
    return [
        "      - id: python",
        f"        uses: {SETUP_PYTHON.uses()}",
        "        with:",
        f"          python-version: {q(python)}",
    ]


def install_shipit(requirement: str, version: str, inject: Sequence[str] = ()) -> list[str]:
    """pipx installs shipit into its own environment (its dependencies never meet the
    project's) with setup-python's interpreter; ``inject`` adds packages beside it."""
    lines = [
        f"      - name: {step_name(' and '.join([f'Install shipit {version}', *inject]))}",
        "        env:",
        "          PYTHON: ${{ steps.python.outputs.python-path }}",
    ]
    install = f'pipx install --python "$PYTHON" {q(requirement)}'
    if not inject:
        return [*lines, f"        run: {install}"]
    return [
        *lines,
        "        run: |",
        f"          {install}",
        f"          pipx inject {PACKAGE} {' '.join(q(p) for p in inject)}",
    ]


def node_steps(node: NodeSetup, *, job: str) -> list[str]:
    """pnpm or corepack, setup-node, npm new enough to publish with OIDC, the install."""
    plan, publish = job == "plan", job == "publish"
    lines: list[str] = []
    if node.manager == "pnpm":
        lines += [f"      - uses: {SETUP_PNPM.uses()}"]
        options = []
        if node.pnpm_version:
            options.append(f"          version: {q(node.pnpm_version)}")
        if node.package_json and node.package_json != "package.json":
            options.append(f"          package_json_file: {q(node.package_json)}")
        if options:
            lines += ["        with:", *options]
    lines += [f"      - uses: {SETUP_NODE.uses()}", "        with:"]
    if node.version_file:
        lines.append(f"          node-version-file: {q(node.version_file)}")
    else:
        lines.append(f"          node-version: {q(node.version)}")
    if publish and node.registry_url:
        lines.append(f"          registry-url: {q(node.registry_url)}")
    if plan and node.cache:
        lines += [
            f"          cache: {node.cache}",
            f"          cache-dependency-path: {q(node.lockfile)}",
        ]
    else:
        reason = "never a cache in a job that builds or publishes" if not plan else "no lockfile"
        lines.append(f"          package-manager-cache: false  # {reason}")
    if node.corepack:
        lines += [
            "      - name: Yarn from package.json's packageManager (corepack)",
            "        run: |",
            "          command -v corepack >/dev/null || npm install --global corepack",
            "          corepack enable",
        ]
    if publish and node.npm_upgrade:
        lines += [
            f"      - name: npm >= {NPM_TRUSTED_MIN} (trusted publishing)",
            "        run: |",
            f'          if [ "$(printf \'%s\\n\' {NPM_TRUSTED_MIN} "$(npm --version)" '
            f'| sort -V | head -n1)" != {NPM_TRUSTED_MIN} ]; then',
            f'            npm install --global "npm@^{NPM_TRUSTED_MIN}"',
            "          fi",
        ]
    if node.install:
        source = node.lockfile or "package.json"
        lines.append(f"      - name: {step_name(f'Install the Node dependencies ({source})')}")
        if node.install_dir:
            lines.append(f"        working-directory: {q(node.install_dir)}")
        lines.append(f"        run: {node.install}")
    return lines


def deno_steps(deno: DenoSetup) -> list[str]:
    lines = [f"      - uses: {SETUP_DENO.uses()}", "        with:"]
    if deno.version_file:
        return [*lines, f"          deno-version-file: {q(deno.version_file)}"]
    return [*lines, f"          deno-version: {q(deno.version)}"]


def python_deps_steps(py: PythonSetup, *, directory: str, job: str) -> list[str]:
    lines: list[str] = []
    if py.manager == "uv":
        lines += [
            f"      - uses: {SETUP_UV.uses()}",
            "        with:",
            f"          enable-cache: {'true' if job == 'plan' else 'false'}",
        ]
        if directory:
            lines.append(f"          working-directory: {q(directory)}")
    tools = [*py.runners, *(["poetry"] if py.manager == "poetry" else [])]
    if tools:
        lines += [
            f"      - name: {step_name('Install ' + ', '.join(tools))}",
            f"        run: {' && '.join(f'pipx install {t}' for t in tools)}",
        ]
    if py.install:
        lines.append("      - name: Install what the checks need")
        if len(py.install) == 1:
            lines.append(f"        run: {py.install[0]}")
        else:
            lines += ["        run: |", *(f"          {c}" for c in py.install)]
    return lines


def minisign_steps() -> list[str]:
    return [
        "      - name: Install minisign (signs SHA256SUMS)",
        "        run: sudo apt-get update && sudo apt-get install --yes minisign",
    ]
