"""The GitHub Actions workflow that releases across machines: what goes in it, its text, drift.

``shipit ci init`` writes it, ``shipit ci check`` compares it with what the configuration gives
now. The workflow has three jobs, like cargo-dist's plan/build/host split:

- **plan** (one Linux runner): ``shipit check`` (without the registry check: tokens live in
  the publish job only) and ``shipit plan --json``, uploaded as the ``shipit-plan`` artifact;
  its ``tag`` output names the release, and on a tag push it must be the pushed tag.
- **build** (a matrix, one native runner per ``[binaries]`` target): ``shipit build --target T
  --out shipit-parts``, uploaded as ``shipit-part-<target>`` (the files and their part
  manifest). Left out when the project builds no binaries.
- **publish** (needs every build; one ``concurrency`` group per tag; ``contents: write`` and
  ``id-token: write``): downloads every part and runs ``shipit release --parts shipit-parts``.

Every action is pinned by full commit SHA with its version in a comment. The file's header
records the inputs it was generated from (``# shipit-ci-inputs: {...}``), so ``ci check`` can
say in words what changed (a target added, another shipit version) rather than only a diff.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shipit import __version__, binformat
from shipit.config import Config
from shipit.project.model import Project
from shipit.project.tags import effective_format

WORKFLOW_PATH = Path(".github") / "workflows" / "release.yml"
INPUTS_MARK = "# shipit-ci-inputs: "
PARTS_DIR = "shipit-parts"  # under the runner's temp directory: never inside the checkout,
# where the publish job's clean-tree check (and a package without a `files` list) would see it
PLAN_FILE = "shipit-plan.json"
PACKAGE = "shipit-release"
NODE_VERSION = "24"  # npm >= 11.5.1 for trusted publishing comes with Node 24
CROSS_RUNNER = "ubuntu-24.04"


@dataclass(frozen=True)
class Action:
    """A GitHub action pinned by the full commit SHA of a release tag."""

    repo: str
    version: str
    sha: str

    def uses(self) -> str:
        return f"{self.repo}@{self.sha} # {self.version}"


# The commit each release tag names (git rev-parse <tag>^{commit} in the action's repository).
CHECKOUT = Action("actions/checkout", "v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1")
SETUP_PYTHON = Action("actions/setup-python", "v7.0.0", "5fda3b95a4ea91299a34e894583c3862153e4b97")
SETUP_NODE = Action("actions/setup-node", "v7.0.0", "820762786026740c76f36085b0efc47a31fe5020")
SETUP_DENO = Action("denoland/setup-deno", "v2.0.4", "667a34cdef165d8d2b2e98dde39547c9daac7282")
SETUP_GO = Action("actions/setup-go", "v7.0.0", "b7ad1dad31e06c5925ef5d2fc7ad053ef454303e")
UPLOAD_ARTIFACT = Action(
    "actions/upload-artifact", "v7.0.0", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"
)
DOWNLOAD_ARTIFACT = Action(
    "actions/download-artifact", "v8.0.1", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"
)

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
    tools: tuple[str, ...]  # node, deno: what `shipit check` needs for the project's own tests
    secrets: tuple[str, ...]  # environment variables the publish job takes from secrets
    environment: str
    go_version_file: str = ""
    signing: str = "none"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["builds"] = [[b.target, b.runner] for b in self.builds]
        normalised: dict[str, Any] = json.loads(json.dumps(data))  # tuples as lists, as read
        return normalised


def inputs_for(config: Config, project: Project, repo_root: Path) -> WorkflowInputs:
    """What the workflow for this project needs: its targets, registries, tools and secrets."""
    root = project.root.resolve()
    try:
        directory = root.relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        directory = ""
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
    tools = tuple(
        t
        for t, on in (
            ("node", npm or "node" in project.ecosystems),
            ("deno", jsr or "deno" in project.ecosystems),
        )
        if on
    )
    secrets: list[str] = []
    for name, on in (("NPM_TOKEN", npm), ("JSR_TOKEN", jsr), ("PYPI_TOKEN", pypi)):
        if on:
            secrets.append(name)
    signing = bins.signing
    for var in (signing.key_env, signing.password_env):
        if signing.method != "none" and var and var not in secrets:
            secrets.append(var)
    from shipit.steps.notify import url_variables

    secrets.extend(v for v in url_variables(config.notify.urls) if v not in secrets)
    go_file = ""
    if builds and bins.preset == "go":
        go_mod = (root / bins.directory / "go.mod").resolve()
        if go_mod.is_file():
            try:
                go_file = go_mod.relative_to(repo_root.resolve()).as_posix()
            except ValueError:
                go_file = ""
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
        tools=tools,
        secrets=tuple(secrets),
        environment=config.ci.environment,
        go_version_file=go_file,
        signing=signing.method if builds else "none",
    )


# ---------------------------------------------------------------- text


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text)


def _in_dir(inputs: WorkflowInputs, path: str) -> str:
    """A path relative to the repository (actions ignore ``working-directory``)."""
    return f"{inputs.directory}/{path}" if inputs.directory else path


def _install(inputs: WorkflowInputs, extra: Sequence[str] = ()) -> list[str]:
    packages = " ".join(_q(p) for p in (f"{PACKAGE}=={inputs.shipit}", *extra))
    return [
        "      - name: Install shipit",
        f"        run: python -m pip install --disable-pip-version-check {packages}",
    ]


def _setup(
    inputs: WorkflowInputs, tools: Sequence[str], *, fetch_all: bool, push: bool
) -> list[str]:
    lines = [f"      - uses: {CHECKOUT.uses()}", "        with:"]
    if fetch_all:
        lines.append("          fetch-depth: 0")
    lines.append(f"          persist-credentials: {'true' if push else 'false'}")
    lines += [
        f"      - uses: {SETUP_PYTHON.uses()}",
        "        with:",
        f"          python-version: {_q(inputs.python)}",
    ]
    if "node" in tools:
        lines += [
            f"      - uses: {SETUP_NODE.uses()}",
            "        with:",
            f"          node-version: {_q(NODE_VERSION)}",
        ]
    if "deno" in tools:
        lines += [
            f"      - uses: {SETUP_DENO.uses()}",
            "        with:",
            '          deno-version: "v2.x"',
        ]
    return lines


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
        "#   plan     shipit check, then shipit plan --json (artifact shipit-plan); on a tag push",
        "#            the planned tag must be the pushed one",
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
    wrapped = textwrap.wrap(publish, width=78)
    lines += [f"#   publish  {wrapped[0]}", *(f"#            {line}" for line in wrapped[1:])]
    if inputs.secrets:
        lines += [
            "#",
            "# Repository secrets the publish job reads (Settings -> Secrets and variables ->",
            f"# Actions): {', '.join(inputs.secrets)}. GITHUB_TOKEN comes from Actions; with",
            "# trusted publishing (id-token: write) a registry token may stay unset.",
        ]
    lines.append(INPUTS_MARK + json.dumps(inputs.to_json(), sort_keys=True, separators=(",", ":")))
    return lines


def _plan_job(inputs: WorkflowInputs) -> list[str]:
    lines = [
        "  plan:",
        "    name: plan",
        "    runs-on: ubuntu-24.04",
        "    outputs:",
        "      tag: ${{ steps.plan.outputs.tag }}",
        "    steps:",
        *_setup(inputs, inputs.tools, fetch_all=True, push=False),
        *_install(inputs),
        "      - name: Check the project (the registry check runs in the publish job)",
        "        run: shipit --ci check --skip registry",
        "      - name: Plan the release",
        "        id: plan",
        "        run: |",
        f"          shipit --ci --json plan > {PLAN_FILE}",
        f'          echo "tag=$(jq -r .release.tag {PLAN_FILE})" >> "$GITHUB_OUTPUT"',
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
        f"          path: {_in_dir(inputs, PLAN_FILE)}",
    ]
    return lines


def _build_tools(inputs: WorkflowInputs) -> tuple[list[str], list[str]]:
    """Setup steps and extra pip packages the build preset needs."""
    steps: list[str] = []
    packages: list[str] = []
    if inputs.preset == "zig":
        packages.append("ziglang")
    elif inputs.preset == "deno":
        steps += [
            f"      - uses: {SETUP_DENO.uses()}",
            "        with:",
            '          deno-version: "v2.x"',
        ]
    elif inputs.preset == "go":
        steps += [f"      - uses: {SETUP_GO.uses()}", "        with:"]
        if inputs.go_version_file:
            steps.append(f"          go-version-file: {_q(inputs.go_version_file)}")
        else:
            steps.append('          go-version: "stable"')
    elif inputs.preset == "cargo":
        steps += [
            "      - name: Add the Rust target",
            "        env:",
            "          TARGET: ${{ matrix.target }}",
            '        run: rustup target add "$TARGET"',
        ]
    return steps, packages


def _build_job(inputs: WorkflowInputs) -> list[str]:
    tool_steps, packages = _build_tools(inputs)
    lines = [
        "  build:",
        "    name: build ${{ matrix.target }}",
        "    needs: plan",
        "    runs-on: ${{ matrix.runner }}",
        "    strategy:",
        "      fail-fast: true",
        "      matrix:",
        "        include:",
    ]
    for b in inputs.builds:
        note = "" if b.native else "  # no native runner: cross-compiled"
        lines += [
            f"          - target: {_q(b.target)}",
            f"            slug: {_q(b.slug)}",
            f"            runner: {_q(b.runner)}{note}",
        ]
    lines += [
        "    steps:",
        *_setup(inputs, (), fetch_all=False, push=False),
        *tool_steps,
        *_install(inputs, packages),
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
        lines.append(f"    environment: {_q(inputs.environment)}")
    lines += [
        "    concurrency:",
        "      group: shipit-publish-${{ needs.plan.outputs.tag }}",
        "      cancel-in-progress: false",
        "    permissions:",
        "      contents: write",
        "      id-token: write",
        "    steps:",
        *_setup(inputs, inputs.tools, fetch_all=True, push=True),
        *_install(inputs),
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
        f"      - {_q(inputs.tag_pattern)}",
        "  workflow_dispatch:",
        "",
        "permissions:",
        "  contents: read",
        "",
        "defaults:",
        "  run:",
        "    shell: bash",
    ]
    if inputs.directory:
        lines.append(f"    working-directory: {_q(inputs.directory)}")
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
    "python": "[ci] python-version",
    "directory": "project directory in the repository",
    "tag_pattern": "release tag pattern ([release] tag-format)",
    "preset": "[binaries] preset",
    "npm": "npm publishing",
    "jsr": "JSR publishing",
    "pypi": "PyPI publishing",
    "github": "GitHub release",
    "tools": "tools installed for the checks",
    "secrets": "secrets passed to the publish job",
    "environment": "[ci] environment",
    "go_version_file": "go.mod used for the Go version",
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
        if before != after:
            out.append(f"{label}: {_shown(before)} -> {_shown(after)}")
    return out


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
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
