"""Part manifests: what one build job made, the contract between build jobs and the publish job.

``shipit build --target T --out DIR`` builds and verifies T's release files from the checkout
and writes them into DIR with ``DIR/<target>.part.json`` (``PartManifest``: the tool version,
the project, version, tag and commit, the target, each file's name, size and sha256, and how
it was built). ``shipit release --parts DIR`` reads every manifest (``collect``) and, before
anything is visible, ``refuse_mismatches`` lists every reason not to release them
(``problems``): a configured target without a part, a part of another commit, version or tag,
a file that is missing or whose size or sha256 differs from its manifest, a file name the
configuration would not give, or a build that differs from the one this release recorded when
it started. The schema of the manifest is committed (``docs/schemas/part-manifest.schema.json``;
``python -m shipit.parts --schema`` prints it) so other tools can read parts too.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shipit import hashing
from shipit.errors import PartInvalid, PartsRejected
from shipit.files import write_text_atomic

if TYPE_CHECKING:
    from shipit.engine.step import Context

FORMAT: Literal["shipit-part/1"] = "shipit-part/1"
SUFFIX = ".part.json"
SCHEMA_PATH = Path("docs") / "schemas" / "part-manifest.schema.json"
_SHA256 = r"^[0-9a-f]{64}$"
_COMMIT = r"^[0-9a-f]{40}([0-9a-f]{24})?$"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartFile(_Doc):
    """One release file of a part (a binary or its archive), as the build job wrote it."""

    name: str = Field(description="File name in the part directory and on the release.")
    size: int = Field(ge=0, description="Size in bytes.")
    sha256: str = Field(pattern=_SHA256, description="Hex SHA-256 of the file.")


class HowBuilt(_Doc):
    """How the build job made the files, for people reading a release's history."""

    command: str = Field(description="The build command (environment prefix included).")
    preset: str = Field(description="[binaries] preset: zig, deno, go, cargo or custom.")
    host: str = Field(description="OS and CPU of the machine that built it, e.g. linux/x86_64.")
    format: str = Field(description="Executable format found in the header (elf, macho, pe).")
    archs: list[str] = Field(description="CPU architectures found in the header.")
    smoke: str = Field(description="First line of `<binary> <smoke-command>`, or why skipped.")
    built_at: str = Field(description="When the build finished (UTC, ISO 8601).")
    duration_s: float = Field(ge=0, description="Build and verification time, seconds.")
    ci: dict[str, str] = Field(
        default_factory=dict,
        description="The CI run that built it (GitHub Actions: repository, run id and "
        "attempt, job, runner), empty outside CI.",
    )


class PartManifest(_Doc):
    """``<target>.part.json``: one target's files, built from one commit for one version."""

    format: Literal["shipit-part/1"] = Field(description="Document type and version.")
    shipit: str = Field(description="Version of shipit that built the part.")
    project: str = Field(description="Project (program) name.")
    version: str = Field(description="Version released (SemVer form).")
    tag: str = Field(description="Release tag.")
    commit: str = Field(pattern=_COMMIT, description="Commit the files were built from.")
    target: str = Field(description="Build target, as in [binaries] targets.")
    files: list[PartFile] = Field(min_length=1, description="The release files of the target.")
    build: HowBuilt


def schema() -> dict[str, Any]:
    """The JSON Schema of a part manifest (committed as a snapshot)."""
    return PartManifest.model_json_schema()


def manifest_name(target: str) -> str:
    """``x86_64-linux-gnu.part.json`` (Go's ``linux/amd64`` -> ``linux-amd64.part.json``)."""
    from shipit.steps.binaries import safe

    return safe(target) + SUFFIX


def write(manifest: PartManifest, directory: Path) -> Path:
    """Write ``<directory>/<target>.part.json`` atomically; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / manifest_name(manifest.target)
    write_text_atomic(path, manifest.model_dump_json(indent=2) + "\n", mode=0o644)  # public
    return path


def read(path: Path) -> PartManifest:
    """A part manifest from ``path``; PartInvalid (naming the file and field) when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PartInvalid(f"cannot read the part manifest {path}", why=str(exc)) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PartInvalid(
            f"{path} is not a part manifest",
            why=f"not JSON: {exc}",
            hint="download the build job's artifact again, or re-run that build job",
        ) from None
    if isinstance(data, dict) and data.get("format") not in (None, FORMAT):
        raise PartInvalid(
            f"{path} is a part manifest of another format ({data.get('format')!r})",
            why=f"this shipit reads {FORMAT}; the part was written by shipit "
            f"{data.get('shipit', '?')}",
            hint="build the parts and release them with the same shipit version",
        )
    try:
        return PartManifest.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(document)'}: {e['msg']}" for e in exc.errors()
        )
        raise PartInvalid(
            f"{path} is not a valid part manifest",
            why=fields,
            hint="download the build job's artifact again, or re-run that build job; "
            f"the format is described in {SCHEMA_PATH.as_posix()}",
        ) from None


# ---------------------------------------------------------------- reading a set of parts


@dataclass(frozen=True)
class Part:
    """A manifest and the directory holding its files."""

    manifest: PartManifest
    directory: Path

    @property
    def target(self) -> str:
        return self.manifest.target

    def path_of(self, name: str) -> Path:
        return self.directory / name


def collect(directories: Iterable[Path]) -> dict[str, Part]:
    """Every part under ``directories`` (merged or one sub-directory per artifact), by target.

    The same target twice is fine when both manifests list the same files (an artifact
    downloaded twice); otherwise PartsRejected.
    """
    parts: dict[str, Part] = {}
    conflicts: list[Problem] = []
    for directory in directories:
        if not directory.is_dir():
            raise PartsRejected(
                f"no parts directory at {directory}",
                why="--parts names a directory holding <target>.part.json files",
                hint="download the build jobs' artifacts into it, or build the parts: "
                f"shipit build --all-local --out {directory}",
            )
        for path in sorted(directory.rglob("*" + SUFFIX)):
            manifest = read(path)
            part = Part(manifest, path.parent)
            seen = parts.get(manifest.target)
            if seen is None:
                parts[manifest.target] = part
            elif seen.manifest.files != manifest.files:
                conflicts.append(
                    Problem(
                        manifest.target,
                        f"two different parts: {seen.directory} and {path.parent}",
                        "keep the part of one build job only",
                    )
                )
    if conflicts:
        raise rejected(conflicts)
    return parts


@dataclass(frozen=True)
class Problem:
    """One reason not to release a set of parts."""

    target: str
    what: str
    hint: str


@dataclass(frozen=True)
class Expected:
    """What the release needs from the parts: its identity and, per target, the file name."""

    version: str
    tag: str
    commit: str
    names: Mapping[str, str]  # target -> release file name the configuration gives
    recorded: Callable[[str], str | None] = lambda target: None  # sha256 in the journal


def problems(parts: Mapping[str, Part], expected: Expected) -> list[Problem]:
    """Every reason not to release ``parts`` for ``expected`` (empty: release them)."""
    found: list[Problem] = []
    for target in expected.names:
        if target not in parts:
            found.append(
                Problem(
                    target,
                    "no part was given for this target",
                    f"re-run its build job, or build it: shipit build --target {target} "
                    "--out <dir>, then pass <dir> with --parts",
                )
            )
    for part in parts.values():
        found.extend(_part_problems(part, expected))
    return found


def _part_problems(part: Part, expected: Expected) -> list[Problem]:
    m = part.manifest
    target = m.target
    if target not in expected.names:
        return [
            Problem(
                target,
                f"the part is for a target the configuration does not build ({part.directory})",
                "add the target to [binaries] targets, or leave its part out",
            )
        ]
    out: list[Problem] = []
    rebuild = f"re-run the build job of {target} for this commit"
    if m.commit != expected.commit:
        out.append(
            Problem(
                target,
                f"built from commit {m.commit[:12]}, but the release is of {expected.commit[:12]}",
                f"{rebuild} (all parts must come from one workflow run)",
            )
        )
    if m.version != expected.version or m.tag != expected.tag:
        out.append(
            Problem(
                target,
                f"built for {m.tag} (version {m.version}), but the release is {expected.tag} "
                f"(version {expected.version})",
                rebuild,
            )
        )
    name = expected.names[target]
    if [f.name for f in m.files] != [name]:
        out.append(
            Problem(
                target,
                f"the part holds {', '.join(f.name for f in m.files)}, but the configuration "
                f"names the file {name}",
                f"{rebuild} with the same [binaries] configuration",
            )
        )
    for item in m.files:
        path = part.path_of(item.name)
        if not path.is_file():
            out.append(Problem(target, f"{item.name} is missing from {part.directory}", rebuild))
            continue
        size = path.stat().st_size
        sha = hashing.sha256_file(path)
        if size != item.size or sha != item.sha256:
            out.append(
                Problem(
                    target,
                    f"{item.name} differs from its manifest: sha256 {sha[:16]}... "
                    f"({size} bytes), the manifest says {item.sha256[:16]}... "
                    f"({item.size} bytes)",
                    f"{rebuild}; never edit a part by hand",
                )
            )
            continue
        recorded = expected.recorded(target)
        if recorded and recorded != sha:
            out.append(
                Problem(
                    target,
                    f"{item.name} is another build than the one this release started with "
                    f"(sha256 {recorded[:16]}... in the journal)",
                    "pass the parts the release started with, or undo it first: shipit rollback",
                )
            )
    return out


def refuse_mismatches(ctx: Context) -> None:
    """Refuse ``ctx.parts`` for this release (PartsRejected listing every problem) before
    anything is visible: the expectations come from the configuration, the journal's
    recorded builds, and whether the release would first make a version commit."""
    from shipit.steps.binaries import BUILD_PREFIX, builds
    from shipit.steps.git_tag import stale_sources

    def recorded(target: str) -> str | None:
        value = ctx.evidence_of(BUILD_PREFIX + target).get("sha256")
        return str(value) if value else None

    names = {b.target: b.artifact.name for b in builds(ctx)}
    found = problems(ctx.parts, Expected(ctx.version, ctx.tag, ctx.commit, names, recorded))
    stale = stale_sources(ctx)
    if stale:
        files = ", ".join(str(s.file) for s in stale)
        found.insert(
            0,
            Problem(
                "every target",
                f"the release would first commit version {ctx.version} into {files}, so the "
                f"tag would not point at {ctx.commit[:12]}, the commit the parts are built from",
                f"set and commit the version first (shipit version set {ctx.version}, commit, "
                "push), then build and release that commit",
            ),
        )
    if found:
        raise rejected(found)


def rejected(found: Sequence[Problem]) -> PartsRejected:
    """One error naming every problem (what, and the next command for each)."""
    lines = [f"- {p.target}: {p.what}\n  next: {p.hint}" for p in found]
    first = found[0]
    return PartsRejected(
        f"the parts cannot be released: {len(found)} problem(s); nothing was published",
        why="\n".join(lines),
        hint=first.hint if len({p.hint for p in found}) == 1 else f"{first.hint} (and above)",
    )


# ---------------------------------------------------------------- copying a part's file


def copy_verified(source: Path, dest: Path, sha256: str) -> None:
    """Copy ``source`` to ``dest`` atomically and check the copy's sha256 (PartsRejected)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(source, tmp)
        got = hashing.sha256_file(tmp)
        if got != sha256:
            raise PartsRejected(
                f"{source.name} changed while it was copied from its part",
                why=f"sha256 {got[:16]}... differs from the manifest's {sha256[:16]}...",
                hint="download the parts again and run the release again",
            )
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- what a build job records


CI_VARIABLES: tuple[tuple[str, str], ...] = (
    ("repository", "GITHUB_REPOSITORY"),
    ("run_id", "GITHUB_RUN_ID"),
    ("run_attempt", "GITHUB_RUN_ATTEMPT"),
    ("job", "GITHUB_JOB"),
    ("runner", "RUNNER_NAME"),
    ("image", "ImageOS"),
)


def ci_run(env: Mapping[str, str]) -> dict[str, str]:
    """The CI run a part was built in (names and ids only, never a token)."""
    return {key: env[var] for key, var in CI_VARIABLES if env.get(var)}


def host() -> str:
    from shipit import binformat

    os_name, arch = binformat.host_spec()
    return f"{os_name or platform.system().lower()}/{arch or platform.machine()}"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m shipit.parts --schema``: print the part manifest's JSON Schema."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["--schema"]:
        sys.stderr.write("usage: python -m shipit.parts --schema\n")
        return 2
    sys.stdout.write(json.dumps(schema(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
