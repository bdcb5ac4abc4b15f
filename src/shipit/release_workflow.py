"""The GitHub Actions workflow that releases across machines: what goes in it, its text, drift.

``shipit ci init`` writes it, ``shipit ci check`` compares it with what the configuration gives
now. The workflow has three jobs, like cargo-dist's plan/build/host split:

- **plan** (one Linux runner): ``shipit ci check`` (the workflow itself still matches the
  configuration, before anything is built), ``shipit check`` (without the registry check:
  tokens live in the publish job only) and ``shipit plan --json``, uploaded as the
  ``shipit-plan`` artifact; its ``tag`` output names the release, and on a tag push it must
  be the pushed tag.
- **build** (a matrix, one native runner per ``[binaries]`` target): ``shipit build --target T
  --out shipit-parts``, uploaded as ``shipit-part-<target>`` (the files and their part
  manifest). Left out when the project builds no binaries.
- **publish** (needs every build; one ``concurrency`` group per tag; ``contents: write``, and
  ``id-token: write`` when a registry may use trusted publishing): downloads every part and
  runs ``shipit release --parts shipit-parts``.

What each job installs before that (shipit, the project's toolchains and dependencies) comes
from ``shipit.workflow_setup``; the actions, pinned by full commit SHA, from
``shipit.workflow_actions``. Every job gets only the permissions it uses (the workflow's
default is none), and only the publish job keeps the checkout's credentials (it pushes the
tag). The file's header records the inputs it was generated from (``# shipit-ci-inputs:
{...}``), so ``ci check`` can say in words what changed (a target added, another shipit
version) rather than only a diff.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shipit import __version__, binformat
from shipit.config import Config
from shipit.project.model import Project
from shipit.project.tags import effective_format
from shipit.workflow_actions import (
    CHECKOUT,
    DOWNLOAD_ARTIFACT,
    SETUP_DENO,
    SETUP_GO,
    SETUP_NODE,
    SETUP_PNPM,
    SETUP_PYTHON,
    SETUP_UV,
    UPLOAD_ARTIFACT,
    Action,
)
from shipit.workflow_setup import (
    DenoSetup,
    NodeSetup,
    PythonSetup,
    deno_setup,
    deno_steps,
    install_shipit,
    minisign_steps,
    node_setup,
    node_steps,
    python_deps_steps,
    python_setup,
    python_steps,
    q,
    shipit_requirement,
)

__all__ = [  # the pinned actions are part of this module's story (and its tests)
    "CHECKOUT",
    "DOWNLOAD_ARTIFACT",
    "SETUP_DENO",
    "SETUP_GO",
    "SETUP_NODE",
    "SETUP_PNPM",
    "SETUP_PYTHON",
    "SETUP_UV",
    "UPLOAD_ARTIFACT",
    "Action",
    "WorkflowInputs",
    "compare",
    "inputs_for",
    "render",
]

WORKFLOW_PATH = Path(".github") / "workflows" / "release.yml"
INPUTS_MARK = "# shipit-ci-inputs: "
PARTS_DIR = "shipit-parts"  # under the runner's temp directory: never inside the checkout,
# where the publish job's clean-tree check (and a package without a `files` list) would see it
PLAN_FILE = "shipit-plan.json"  # under the runner's temp directory too: a file in the
# checkout makes the work tree dirty, which the release invariants (and `shipit plan`) refuse
CROSS_RUNNER = "ubuntu-24.04"
RUST_TOOLCHAIN_FILES = ("rust-toolchain.toml", "rust-toolchain")

#: The GitHub-hosted runner that runs a target's binaries natively, by (OS, CPU).
NATIVE_RUNNERS: dict[tuple[str, str], str] = {
    ("linux", "x86_64"): "ubuntu-24.04",
    ("linux", "aarch64"): "ubuntu-24.04-arm",
    ("macos", "aarch64"): "macos-15",
    ("macos", "x86_64"): "macos-15-intel",
    ("windows", "x86_64"): "windows-2025",
    ("windows", "aarch64"): "windows-11-arm",
}


def safe_name(target: str) -> str:
    """A target as a file and artifact name fragment (Go's ``linux/amd64`` -> ``linux-amd64``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", target)


def runner_for(target: str, overrides: Mapping[str, str]) -> tuple[str, bool]:
    """The runner label for ``target`` and whether it runs the target's binaries natively."""
    if target in overrides:
        return overrides[target], True
    spec = binformat.target_spec(target)
    if spec.os == "macos" and len(spec.archs) > 1:  # universal: build where both run
        return NATIVE_RUNNERS[("macos", "aarch64")], True
    native = NATIVE_RUNNERS.get((spec.os, spec.archs[0]))
    return (native, True) if native else (CROSS_RUNNER, False)


def tag_pattern(tag_format: str) -> str:
    """The ``on.push.tags`` filter of release tags: ``v{version}`` -> ``v[0-9]+.[0-9]+.[0-9]+*``."""
    prefix, _, suffix = tag_format.partition("{version}")
    return f"{prefix}[0-9]+.[0-9]+.[0-9]+*{suffix}"


@dataclass(frozen=True)
class BuildTarget:
    target: str
    slug: str
    runner: str
    native: bool


@dataclass(frozen=True)
class WorkflowInputs:
    """Everything the workflow text is made from (recorded in its header)."""

    shipit: str
    python: str
    directory: str  # the project inside the repository ("" at its top)
    tag_pattern: str
    preset: str
    builds: tuple[BuildTarget, ...]
    npm: bool
    jsr: bool
    pypi: bool
    github: bool
    secrets: tuple[str, ...]  # environment variables the publish job takes from secrets
    environment: str
    shipit_requirement: str = ""  # what pipx installs shipit from
    node: NodeSetup | None = None  # plan and publish jobs
    deno: DenoSetup | None = None  # the jobs it names
    python_deps: PythonSetup | None = None  # plan and publish jobs: what the checks need
    id_token: bool = False  # the publish job may use trusted publishing (or npm provenance)
    go_version_file: str = ""
    rust_toolchain_file: str = ""
    signing: str = "none"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["builds"] = [[b.target, b.runner] for b in self.builds]
        normalised: dict[str, Any] = json.loads(json.dumps(data))  # tuples as lists, as read
        return normalised


def _repo_relative(path: Path, repo_root: Path) -> str:
    try:
        return path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return ""


def _first_file(directory: Path, names: tuple[str, ...]) -> Path | None:
    return next((directory / n for n in names if (directory / n).is_file()), None)


def inputs_for(config: Config, project: Project, repo_root: Path) -> WorkflowInputs:
    """What the workflow for this project needs: its targets, registries, tools and secrets."""
    root = project.root.resolve()
    directory = _repo_relative(root, repo_root)
    directory = "" if directory == "." else directory
    bins = config.binaries
    builds: list[BuildTarget] = []
    if project.target("binaries") is not None:
        for target in bins.targets:
            runner, native = runner_for(target, config.ci.runners)
            builds.append(BuildTarget(target, safe_name(target), runner, native))
    npm = project.target("npm") is not None
    jsr = project.target("jsr") is not None
    pypi = project.target("pypi") is not None
    github = config.github.enabled is not False  # Actions always sets GITHUB_REPOSITORY
    registries = (
        ("npm", npm, config.npm.auth),
        ("jsr", jsr, config.jsr.auth),
        ("pypi", pypi, config.pypi.auth),
    )
    secrets: list[str] = [
        f"{name.upper()}_TOKEN" for name, on, auth in registries if on and auth != "oidc"
    ]
    id_token = any(on and auth != "token" for _, on, auth in registries)
    id_token = id_token or (npm and config.npm.provenance)
    signing = bins.signing
    for var in (signing.key_env, signing.password_env):
        if signing.method != "none" and var and var not in secrets:
            secrets.append(var)
    from shipit.steps.notify import url_variables

    secrets.extend(v for v in url_variables(config.notify.urls) if v not in secrets)
    go_file = rust_file = ""
    build_dir = (root / bins.directory).resolve()
    if builds and bins.preset == "go":
        go_mod = _first_file(build_dir, ("go.mod",))
        go_file = _repo_relative(go_mod, repo_root) if go_mod else ""
    if builds and bins.preset == "cargo":
        toolchain = _first_file(build_dir, RUST_TOOLCHAIN_FILES)
        rust_file = _repo_relative(toolchain, repo_root) if toolchain else ""
    requirement, _ = shipit_requirement(config)
    return WorkflowInputs(
        shipit=__version__,
        python=config.ci.python_version,
        directory=directory,
        tag_pattern=tag_pattern(effective_format(config, project.tags)),
        preset=bins.preset if builds else "",
        builds=tuple(builds),
        npm=npm,
        jsr=jsr,
        pypi=pypi,
        github=github,
        secrets=tuple(secrets),
        environment=config.ci.environment,
        shipit_requirement=requirement,
        node=node_setup(config, project, repo_root),
        deno=deno_setup(config, project, repo_root, build=bool(builds) and bins.preset == "deno"),
        python_deps=python_setup(config, project),
        id_token=id_token,
        go_version_file=go_file,
        rust_toolchain_file=rust_file,
        signing=signing.method if builds else "none",
    )


# ---------------------------------------------------------------- text


def _in_dir(inputs: WorkflowInputs, path: str) -> str:
    """A path relative to the repository (actions ignore ``working-directory``)."""
    return f"{inputs.directory}/{path}" if inputs.directory else path


def _checkout(*, fetch_all: bool, push: bool) -> list[str]:
    lines = [f"      - uses: {CHECKOUT.uses()}", "        with:"]
    if fetch_all:
        lines.append("          fetch-depth: 0  # every tag: shipit reads the tag convention")
    if push:
        lines.append("          persist-credentials: true  # shipit pushes the release tag")
    else:
        lines.append("          persist-credentials: false")
    return lines


def _shipit(inputs: WorkflowInputs, inject: tuple[str, ...] = ()) -> list[str]:
    return [
        *python_steps(inputs.python),
        *install_shipit(inputs.shipit_requirement, inputs.shipit, inject),
    ]


def _project_tools(inputs: WorkflowInputs, job: str) -> list[str]:
    """The toolchains and dependencies the checks (and the publish steps) of ``job`` need."""
    lines: list[str] = []
    if inputs.node is not None:
        lines += node_steps(inputs.node, job=job)
    if inputs.deno is not None and job in inputs.deno.jobs:
        lines += deno_steps(inputs.deno)
    if inputs.python_deps is not None:
        lines += python_deps_steps(inputs.python_deps, directory=inputs.directory, job=job)
    return lines


def _node_words(node: NodeSetup) -> list[str]:
    words = [f"Node {node.version}" if node.version else f"Node ({node.version_file})"]
    if node.manager == "pnpm":
        words.append("pnpm")
    if node.corepack:
        words.append("Yarn (corepack)")
    if node.install:
        words.append(node.install)
    return words


def _deno_words(deno: DenoSetup) -> str:
    return f"Deno {deno.version}" if deno.version else f"Deno ({deno.version_file})"


def installs(inputs: WorkflowInputs) -> dict[str, list[str]]:
    """What each job installs before it runs shipit, in words (the header, `ci init`)."""
    common = [f"Python {inputs.python}", f"{inputs.shipit_requirement} (pipx)"]
    checks: list[str] = []
    if inputs.node is not None:
        checks += _node_words(inputs.node)
    if inputs.deno is not None and "plan" in inputs.deno.jobs:
        checks.append(_deno_words(inputs.deno))
    py = inputs.python_deps
    if py is not None:
        checks += [f"{runner} (pipx)" for runner in py.runners]
        if py.install:
            checks.append(py.source)
    publish = list(checks)
    if inputs.node is not None and inputs.node.npm_upgrade:
        publish.append("npm >= 11.5.1 if older")
    if inputs.signing == "minisign":
        publish.append("minisign")
    out = {"plan": common + checks}
    if inputs.builds:
        build = {
            "zig": ["ziglang (beside shipit)"],
            "go": [f"Go ({inputs.go_version_file or 'stable'})"],
            "cargo": [
                "the Rust target"
                + (
                    f" and the toolchain of {inputs.rust_toolchain_file}"
                    if inputs.rust_toolchain_file
                    else ""
                )
            ],
        }.get(inputs.preset, [])
        if inputs.deno is not None and "build" in inputs.deno.jobs:
            build.append(_deno_words(inputs.deno))
        out["build"] = common + build
    out["publish"] = common + publish
    return out


def _header(inputs: WorkflowInputs) -> list[str]:
    jobs = ["plan", "build", "publish"] if inputs.builds else ["plan", "publish"]
    publishes = [
        name
        for name, on in (
            ("the git tag", True),
            ("npm", inputs.npm),
            ("JSR", inputs.jsr),
            ("PyPI", inputs.pypi),
            ("the GitHub release with SHA256SUMS", inputs.github),
        )
        if on
    ]
    lines = [
        "# Generated by `shipit ci init` from this project's configuration; do not edit by hand:",
        "# `shipit ci check` tells whether it still matches, `shipit ci init --force` rewrites it.",
        "#",
        f"# On a pushed release tag ({inputs.tag_pattern}) or a manual run, {' -> '.join(jobs)}:",
        "#   plan     shipit ci check (this file still matches the configuration), shipit",
        "#            check, then shipit plan --json (artifact shipit-plan); on a tag push the",
        "#            planned tag must be the pushed one",
    ]
    if inputs.builds:
        lines += [
            "#   build    one native runner per target: shipit build builds and verifies its",
            "#            binaries and writes them with a part manifest (artifact shipit-part-*)",
        ]
    checked = (
        "shipit release --parts checks every part (commit, version, sha256) before anything "
        "is visible, then publishes"
        if inputs.builds
        else "shipit release publishes"
    )
    publish = (
        f"once per tag: {checked} {', '.join(publishes)} (a re-run probes first and "
        "publishes nothing twice)"
    )
    lines += _wrapped("#   publish  ", publish)
    lines += ["#", "# What each job installs first:"]
    for job, things in installs(inputs).items():
        lines += _wrapped(f"#   {job:<8} ", ", ".join(things))
    if inputs.secrets:
        lines += [
            "#",
            "# Repository secrets the publish job reads (Settings -> Secrets and variables ->",
            f"# Actions): {', '.join(inputs.secrets)}. GITHUB_TOKEN comes from Actions; with",
            "# trusted publishing (id-token: write) a registry token may stay unset.",
        ]
    lines.append(INPUTS_MARK + json.dumps(inputs.to_json(), sort_keys=True, separators=(",", ":")))
    return lines


def _wrapped(first: str, text: str) -> list[str]:
    rest = "#" + " " * (len(first) - 1)
    wrapped = textwrap.wrap(text, width=90 - len(first), break_on_hyphens=False)
    return [first + wrapped[0], *(rest + line for line in wrapped[1:])]


def _plan_job(inputs: WorkflowInputs) -> list[str]:
    lines = [
        "  plan:",
        "    name: plan",
        "    runs-on: ubuntu-24.04",
        "    permissions:",
        "      contents: read",
        "    outputs:",
        "      tag: ${{ steps.plan.outputs.tag }}",
        "    steps:",
        *_checkout(fetch_all=True, push=False),
        *_shipit(inputs),
        "      - name: This workflow still matches the configuration",
        "        run: |",
        '          workflow="${GITHUB_WORKFLOW_REF%@*}"  # owner/repo/.github/workflows/<file>',
        '          shipit --ci ci check --output "$GITHUB_WORKSPACE/${workflow#*/*/}"',
        *_project_tools(inputs, "plan"),
        "      - name: Check the project (the registry check runs in the publish job)",
        "        run: shipit --ci check --skip registry",
        "      - name: Plan the release",
        "        id: plan",
        "        run: |",
        f'          shipit --ci --json plan > "$RUNNER_TEMP/{PLAN_FILE}"',
        f'          echo "tag=$(jq -r .release.tag "$RUNNER_TEMP/{PLAN_FILE}")"'
        ' >> "$GITHUB_OUTPUT"',
        "      - name: The pushed tag is the planned tag",
        "        if: github.event_name == 'push'",
        "        env:",
        "          PLANNED: ${{ steps.plan.outputs.tag }}",
        "        run: |",
        '          if [ "$PLANNED" != "$GITHUB_REF_NAME" ]; then',
        '            echo "::error::tag $GITHUB_REF_NAME was pushed, but the project plans'
        ' $PLANNED (shipit version shows why)"',
        "            exit 1",
        "          fi",
        f"      - uses: {UPLOAD_ARTIFACT.uses()}",
        "        with:",
        "          name: shipit-plan",
        f"          path: ${{{{ runner.temp }}}}/{PLAN_FILE}",
    ]
    return lines


def _build_tools(inputs: WorkflowInputs) -> tuple[list[str], tuple[str, ...]]:
    """Setup steps and packages installed beside shipit that the build preset needs."""
    steps: list[str] = []
    if inputs.preset == "zig":
        return steps, ("ziglang",)  # shipit runs `python -m ziglang cc` with its own Python
    if inputs.deno is not None and "build" in inputs.deno.jobs:
        steps += deno_steps(inputs.deno)
    elif inputs.preset == "go":
        steps += [f"      - uses: {SETUP_GO.uses()}", "        with:"]
        if inputs.go_version_file:
            steps.append(f"          go-version-file: {q(inputs.go_version_file)}")
        else:
            steps.append('          go-version: "stable"')
        steps.append(
            "          cache: false  # never a cache in a job that builds what is published"
        )
    elif inputs.preset == "cargo":
        if inputs.rust_toolchain_file:
            steps += [
                f"      - name: The Rust toolchain of {inputs.rust_toolchain_file}",
                f"        working-directory: {q(str(Path(inputs.rust_toolchain_file).parent))}",
                "        run: rustup toolchain install",
            ]
        steps += [
            "      - name: Add the Rust target",
            "        env:",
            "          TARGET: ${{ matrix.target }}",
            '        run: rustup target add "$TARGET"',
        ]
    return steps, ()


def _build_job(inputs: WorkflowInputs) -> list[str]:
    tool_steps, inject = _build_tools(inputs)
    lines = [
        "  build:",
        "    name: build ${{ matrix.target }}",
        "    needs: plan",
        "    runs-on: ${{ matrix.runner }}",
        "    permissions:",
        "      contents: read",
        "    strategy:",
        "      fail-fast: true",
        "      matrix:",
        "        include:",
    ]
    for b in inputs.builds:
        note = "" if b.native else "  # no native runner: cross-compiled"
        lines += [
            f"          - target: {q(b.target)}",
            f"            slug: {q(b.slug)}",
            f"            runner: {q(b.runner)}{note}",
        ]
    lines += [
        "    steps:",
        *_checkout(fetch_all=False, push=False),
        *_shipit(inputs, inject),
        *tool_steps,
        "      - name: Build and verify ${{ matrix.target }}",
        "        env:",
        "          TARGET: ${{ matrix.target }}",
        f'        run: shipit --ci build --target "$TARGET" --out "$RUNNER_TEMP/{PARTS_DIR}"',
        f"      - uses: {UPLOAD_ARTIFACT.uses()}",
        "        with:",
        "          name: shipit-part-${{ matrix.slug }}",
        f"          path: ${{{{ runner.temp }}}}/{PARTS_DIR}/",
        "          if-no-files-found: error",
    ]
    return lines


def _publish_job(inputs: WorkflowInputs) -> list[str]:
    needs = "[plan, build]" if inputs.builds else "[plan]"
    lines = [
        "  publish:",
        "    name: publish ${{ needs.plan.outputs.tag }}",
        f"    needs: {needs}",
        "    runs-on: ubuntu-24.04",
    ]
    if inputs.environment:
        lines.append(f"    environment: {q(inputs.environment)}")
    lines += [
        "    concurrency:",
        "      group: shipit-publish-${{ needs.plan.outputs.tag }}",
        "      cancel-in-progress: false",
        "    permissions:",
        "      contents: write  # push the tag, create the GitHub release",
    ]
    if inputs.id_token:
        lines.append("      id-token: write  # trusted publishing (OIDC), npm provenance")
    lines += [
        "    steps:",
        *_checkout(fetch_all=True, push=True),
        *_shipit(inputs),
        *_project_tools(inputs, "publish"),
    ]
    if inputs.signing == "minisign":
        lines += minisign_steps()
    lines += [
        "      - name: Identify the release commit's author",
        "        run: |",
        '          git config user.name "github-actions[bot]"',
        '          git config user.email "41898282+github-actions[bot]@users.noreply.github.com"',
    ]
    release = "shipit --ci release --yes"
    if inputs.builds:
        lines += [
            f"      - uses: {DOWNLOAD_ARTIFACT.uses()}",
            "        with:",
            "          pattern: shipit-part-*",
            f"          path: ${{{{ runner.temp }}}}/{PARTS_DIR}",
            "          merge-multiple: true",
        ]
        release += f' --parts "$RUNNER_TEMP/{PARTS_DIR}"'
    lines += ["      - name: Release", "        env:"]
    if inputs.github:
        lines.append("          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}")
    lines += [f"          {name}: ${{{{ secrets.{name} }}}}" for name in inputs.secrets]
    lines += [
        f"        run: {release}",
        "      - name: Keep the release log",
        "        if: always()",
        f"        uses: {UPLOAD_ARTIFACT.uses()}",
        "        with:",
        "          name: shipit-release-log",
        f"          path: {_in_dir(inputs, '.shipit/releases/*/shipit.log')}",
        "          if-no-files-found: ignore",
        "          include-hidden-files: true",
    ]
    return lines


def render(inputs: WorkflowInputs) -> str:
    """The whole workflow file."""
    lines = [
        *_header(inputs),
        "name: release",
        "",
        "on:",
        "  push:",
        "    tags:",
        f"      - {q(inputs.tag_pattern)}",
        "  workflow_dispatch:",
        "",
        "permissions: {}  # each job names what it needs",
        "",
        "defaults:",
        "  run:",
        "    shell: bash",
    ]
    if inputs.directory:
        lines.append(f"    working-directory: {q(inputs.directory)}")
    lines += ["", "jobs:", *_plan_job(inputs)]
    if inputs.builds:
        lines += ["", *_build_job(inputs)]
    lines += ["", *_publish_job(inputs)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- drift


def recorded_inputs(text: str) -> dict[str, Any] | None:
    """The inputs a generated file records in its header (None: not generated by shipit)."""
    for line in text.splitlines():
        if line.startswith(INPUTS_MARK):
            try:
                data = json.loads(line[len(INPUTS_MARK) :])
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


_LABELS: dict[str, str] = {
    "shipit": "shipit version",
    "shipit_requirement": "what the jobs install shipit from ([ci] shipit-requirement)",
    "python": "[ci] python-version",
    "directory": "project directory in the repository",
    "tag_pattern": "release tag pattern ([release] tag-format)",
    "preset": "[binaries] preset",
    "npm": "npm publishing",
    "jsr": "JSR publishing",
    "pypi": "PyPI publishing",
    "github": "GitHub release",
    "node": "Node.js set-up",
    "deno": "Deno set-up",
    "python_deps": "Python dependencies for the checks",
    "secrets": "secrets passed to the publish job",
    "id_token": "id-token: write (trusted publishing)",
    "environment": "[ci] environment",
    "go_version_file": "go.mod used for the Go version",
    "rust_toolchain_file": "Rust toolchain file",
    "signing": "[binaries.signing] method",
}


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What changed between two recorded inputs, in words (targets first)."""
    out: list[str] = []
    old_builds = {t: r for t, r in (old.get("builds") or [])}
    new_builds = {t: r for t, r in (new.get("builds") or [])}
    for target, runner in new_builds.items():
        if target not in old_builds:
            out.append(f"target {target} is configured but has no build job (runner {runner})")
        elif old_builds[target] != runner:
            out.append(f"target {target}: runner {old_builds[target]} -> {runner}")
    out.extend(
        f"target {target} has a build job but is no longer configured"
        for target in old_builds
        if target not in new_builds
    )
    for key, label in _LABELS.items():
        before, after = old.get(key), new.get(key)
        if before == after or (_shown(before) == _shown(after) == "none"):
            continue  # a key an older shipit did not record, still empty
        if isinstance(before, dict) and isinstance(after, dict):
            for field in sorted({*before, *after}):
                if before.get(field) != after.get(field):
                    shown = field.replace("_", " ")
                    out.append(
                        f"{label}, {shown}: {_shown(before.get(field))} -> "
                        f"{_shown(after.get(field))}"
                    )
        else:
            out.append(f"{label}: {_shown(before)} -> {_shown(after)}")
    return out


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_shown(v)}" for k, v in value.items() if v)
    return str(value) if value not in (None, "") else "none"


@dataclass(frozen=True)
class Drift:
    """How the workflow on disk compares with what the configuration gives now."""

    path: Path
    exists: bool
    up_to_date: bool
    generated: bool  # carries shipit's inputs header
    changes: tuple[str, ...]  # in words
    diff: str  # unified diff, disk -> expected

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.up_to_date,
            "path": str(self.path),
            "exists": self.exists,
            "generated_by_shipit": self.generated,
            "changes": list(self.changes),
            "diff": self.diff,
        }


def compare(path: Path, expected: str, inputs: WorkflowInputs) -> Drift:
    """Compare the file at ``path`` with ``expected`` (the text ``render(inputs)`` gives)."""
    if not path.is_file():
        return Drift(path, False, False, False, (f"{path} does not exist",), "")
    actual = path.read_text(encoding="utf-8")
    if actual == expected:
        return Drift(path, True, True, True, (), "")
    diff = "".join(
        difflib.unified_diff(
            actual.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{path.name} (on disk)",
            tofile=f"{path.name} (from the configuration)",
        )
    )
    recorded = recorded_inputs(actual)
    if recorded is None:
        changes: list[str] = ["the file was not written by `shipit ci init` (no inputs header)"]
    else:
        changes = differences(recorded, inputs.to_json())
        if not changes:
            changes = ["the file was edited by hand since `shipit ci init` wrote it"]
    return Drift(path, True, False, recorded is not None, tuple(changes), diff)
