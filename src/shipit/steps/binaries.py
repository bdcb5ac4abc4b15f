"""Binary steps: ``binaries:build:<target>`` (one per target) and ``binaries:verify:<target>``.

The build matrix comes from ``[binaries]``: a command template (or a preset: zig, deno, go,
cargo) with the placeholders ``{target}``, ``{output}``, ``{version}``, ``{tag}``, ``{name}``,
``{entry}``, ``{ext}`` and ``{python}`` (and ``SHIPIT_VERSION``/``SHIPIT_TAG`` in its
environment), run once per target, at most ``parallel`` (default: the core count) at a time,
each with its own log under the release's ``logs/`` and its own timeout. The command writes
the executable into ``build/<target>/``; the step then copies it (or packs it, as a
deterministic ``.tar.gz`` / ``.zip``) into ``dist/`` under ``name-template`` atomically, so a
file in ``dist/`` is always complete.

Verification reads each executable's header (shipit.binformat): the format and CPU must match
the target, and the host's own binary is run with ``smoke-command`` (default ``--version``):
its output must contain the version.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import shlex
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipit import binformat, hashing, proc
from shipit.engine.step import Context, Evidence, Probe, Progress, Step, Tool, Undo, cpu_slot
from shipit.errors import PermanentError, ShipitError, ToolMissingError
from shipit.project.manifests import read_json
from shipit.redact import SECRET_ENV_VARS, redact
from shipit.steps._release_env import release_env, release_values
from shipit.steps._slots import Slots
from shipit.steps.gate import require_release_tree
from shipit.workspace import open_private, private_dir

if TYPE_CHECKING:
    from shipit.parts import Part

log = logging.getLogger("shipit.steps.binaries")

BUILD_PREFIX = "binaries:build:"
VERIFY_PREFIX = "binaries:verify:"
CHUNK = 1024 * 1024

PRESETS: dict[str, str] = {
    "zig": "{python} -m ziglang cc -target {target} -O2 '-DVERSION=\"{version}\"' {entry} "
    "-o {output}",
    "deno": "deno compile {flags} --target {target} --output {output} {entry}",
    "go": "go build -trimpath -ldflags '-s -w -X main.version={version}' -o {output} {entry}",
    "cargo": "cargo build --release --locked --target {target}",
}
PRESET_BUILT_PATH: dict[str, str] = {"cargo": "target/{target}/release/{name}{ext}"}
TOOL_HINTS: dict[str, str] = {
    "deno": "install deno (`pip install deno` or https://docs.deno.com/runtime/getting_started/)",
    "go": "install Go: https://go.dev/dl/",
    "cargo": "install Rust and cargo: https://rustup.rs",
    "custom": "install the program the [binaries] command runs, or fix `command`",
}
PRESET_DEFAULT_ENTRY: dict[str, str] = {"zig": "main.c", "deno": "main.ts", "go": "."}

_GOOS = {"linux": "linux", "macos": "darwin", "windows": "windows", "freebsd": "freebsd"}
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "x86": "386", "arm": "arm", "riscv64": "riscv64"}

_BUILDS = Slots()  # at most `binaries.parallel` builds at once in this process


# ------------------------------------------------------------------ the matrix


def program_name(ctx: Context) -> str:
    cfg = ctx.config.binaries
    if cfg.name:
        return cfg.name
    target = ctx.project.target("binaries")
    if target is not None and target.package:
        return target.package
    name = ctx.project.name or ctx.root.name
    return name.rsplit("/", 1)[-1].lstrip("@") or "app"


def safe(target: str) -> str:
    """A target as a file-name fragment (Go's ``linux/amd64`` -> ``linux-amd64``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", target)


@dataclass(frozen=True)
class Build:
    """Where everything of one target lives."""

    target: str
    spec: binformat.TargetSpec
    name: str
    binary: Path  # the executable as built: build/<target>/<name><ext>
    artifact: Path  # what goes into dist/: the binary or its archive

    @property
    def log_file_name(self) -> str:
        return f"build-{safe(self.target)}.log"


def _asset_template(ctx: Context, target: str) -> tuple[str, str]:
    """(template, the key that set it) for ``target``'s file name in dist/."""
    cfg = ctx.config.binaries
    names = cfg.asset_names
    if isinstance(names, dict):
        if target not in names:
            raise PermanentError(
                f"[binaries] asset-names has no name for the target {target}",
                why=f"it names {', '.join(sorted(names)) or 'no target'}",
                hint=f'add "{target}" = "<file name>" to [binaries] asset-names',
            )
        return names[target], "asset-names"
    if isinstance(names, str):
        return names, "asset-names"
    return cfg.name_template, "name-template"


_PERMISSION_FLAG = re.compile(
    r"^(-A|--allow-all|-P(=.*)?|--permission-set(=.*)?|-[RWNESI](=.*)?|--allow-[a-z-]+(=.*)?|"
    r"--deny-[a-z-]+(=.*)?|--unstable(-[a-z-]+)?|--no-prompt)$"
)


def deno_compile_flags(directory: Path) -> list[str]:
    """The permission flags of the project's own ``deno compile`` task (deno.json(c)
    ``tasks``): what its program needs at run time (``-A``, ``--allow-net``, ``-P``, ...)."""
    for file in ("deno.json", "deno.jsonc"):
        path = directory / file
        if not path.is_file():
            continue
        try:
            tasks = read_json(path).get("tasks")
        except ShipitError:
            return []
        for task in (tasks or {}).values() if isinstance(tasks, dict) else []:
            command = task.get("command") if isinstance(task, dict) else task
            if not isinstance(command, str) or "deno compile" not in command:
                continue
            try:
                words = shlex.split(command.split("deno compile", 1)[1])
            except ValueError:
                return []
            return [w for w in words if _PERMISSION_FLAG.match(w)]
    return []


def compile_flags(ctx: Context) -> list[str]:
    """``[binaries] flags``, else for the deno preset the flags of the deno.json compile task."""
    cfg = ctx.config.binaries
    if cfg.flags is not None:
        return list(cfg.flags)
    if cfg.preset == "deno":
        return deno_compile_flags((ctx.root / cfg.directory).resolve())
    return []


def plan_build(ctx: Context, target: str) -> Build:
    cfg = ctx.config.binaries
    spec = binformat.target_spec(target)
    name = program_name(ctx)
    binary = ctx.release_dir / "build" / safe(target) / f"{name}{spec.ext}"
    ext = spec.ext if cfg.archive == "none" else f".{cfg.archive}"
    template, key = _asset_template(ctx, target)
    try:
        file_name = template.format(
            name=name,
            version=ctx.version,
            target=safe(target),
            ext=ext,
            os=spec.os,
            arch="+".join(spec.archs),
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise PermanentError(
            f"bad `{key}` in [binaries]: {template!r}",
            why=f"unknown placeholder {exc}",
            hint="use {name}, {version}, {target}, {ext}, {os}, {arch}",
        ) from None
    return Build(target, spec, name, binary, ctx.dist_dir / file_name)


def ctx_archive(build: Build) -> str:
    """How the artifact holds the binary: "tar.gz", "zip" or "none" (the binary itself)."""
    name = build.artifact.name
    if name.endswith(".tar.gz"):
        return "tar.gz"
    return "zip" if name.endswith(".zip") else "none"


def builds(ctx: Context) -> list[Build]:
    """One build per ``[binaries] targets`` entry when the project's binaries target is on."""
    if ctx.project.target("binaries") is None:
        return []
    found = [plan_build(ctx, t) for t in ctx.config.binaries.targets]
    seen: dict[str, str] = {}
    for build in found:
        other = seen.setdefault(build.artifact.name, build.target)
        if other != build.target:
            raise PermanentError(
                f"two targets would make the same file {build.artifact.name}",
                why=f"{other} and {build.target}",
                hint="give each target its own name in [binaries] asset-names (or put {target} "
                "in name-template)",
            )
    return found


def artifacts(ctx: Context) -> list[Path]:
    """The files the binary steps put into dist/ (binaries or archives), in target order."""
    return [b.artifact for b in builds(ctx)]


def command_argv(ctx: Context, build: Build) -> tuple[list[str], dict[str, str]]:
    """The build command for one target and the extra environment it needs."""
    cfg = ctx.config.binaries
    template = cfg.command or PRESETS.get(cfg.preset)
    if not template:
        raise PermanentError(
            "no build command for the binaries",
            why='[binaries] has preset = "custom" and no `command`',
            hint='set `command = "..."` with {target} and {output}, or a preset '
            "(zig, deno, go, cargo) in [binaries]",
        )
    entry = cfg.entry or PRESET_DEFAULT_ENTRY.get(cfg.preset, "")
    goos = _GOOS.get(build.spec.os, build.spec.os)
    goarch = _GOARCH.get(build.spec.archs[0], build.spec.archs[0])
    values = {
        "target": build.target,
        "output": str(build.binary),
        **release_values(ctx),  # version, tag, pep440
        "name": build.name,
        "entry": entry,
        "ext": build.spec.ext,
        "python": sys.executable,
        "goos": goos,
        "goarch": goarch,
    }
    flags = compile_flags(ctx)
    try:
        argv = []
        for token in shlex.split(template):
            if token == "{flags}":
                argv += flags
            else:
                argv.append(token.format_map(values))
    except (KeyError, ValueError) as exc:
        raise PermanentError(
            f"bad build command template in [binaries]: {template!r}",
            why=str(exc),
            hint="placeholders: {target} {output} {version} {tag} {name} {entry} {ext} "
            "{python} {flags}",
        ) from None
    env = {k: v.format_map(values) for k, v in cfg.env.items()}
    if cfg.preset == "go":
        env.setdefault("GOOS", goos)
        env.setdefault("GOARCH", goarch)
        env.setdefault("CGO_ENABLED", "0")
    return argv, env


def tool_env(ctx: Context, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of build and smoke commands: the release's variables
    (``SHIPIT_VERSION``, ``SHIPIT_TAG``, ...), no publish tokens."""
    env = release_env(ctx, {**os.environ, **ctx.env, **(extra or {})})
    for name in SECRET_ENV_VARS:
        env.pop(name, None)
    return env


def built_path(ctx: Context, build: Build) -> Path | None:
    """Where the command leaves the binary when it does not write {output} itself."""
    cfg = ctx.config.binaries
    template = cfg.built_path or (None if cfg.command else PRESET_BUILT_PATH.get(cfg.preset))
    if not template:
        return None
    rel = template.format(target=build.target, name=build.name, ext=build.spec.ext)
    return (ctx.root / cfg.directory / rel).resolve()


# ------------------------------------------------------------------ files


def sha256_file(path: Path) -> tuple[str, int]:
    """The hex SHA-256 and size of a file, streamed (memory stays flat)."""
    return hashing.sha256_file(path), path.stat().st_size


def _atomic_target(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    return Path(tmp)


def pack(binary: Path, dest: Path, member: str, kind: str) -> None:
    """Copy or pack ``binary`` into ``dest`` deterministically (fixed times, owners, modes)."""
    tmp = _atomic_target(dest)
    try:
        if kind == "none":
            shutil.copyfile(binary, tmp)
            os.chmod(tmp, 0o755)
        elif kind == "tar.gz":
            with (
                tmp.open("wb") as raw,
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
                tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
            ):
                info = tarfile.TarInfo(member)
                info.size = binary.stat().st_size
                info.mode = 0o755
                info.mtime = 0
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with binary.open("rb") as fh:
                    tar.addfile(info, fh)
        elif kind == "zip":
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zinfo = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
                zinfo.create_system = 3
                zinfo.external_attr = (0o100755 & 0xFFFF) << 16
                zinfo.compress_type = zipfile.ZIP_DEFLATED
                with binary.open("rb") as src, zf.open(zinfo, "w") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        else:  # pragma: no cover - config validation forbids it
            raise ValueError(kind)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _header_of_archive(artifact: Path, member: str) -> bytes:
    if artifact.name.endswith(".tar.gz"):
        with tarfile.open(artifact, "r:gz") as tar:
            fh = tar.extractfile(member)
            return fh.read(64 * 1024) if fh else b""
    with zipfile.ZipFile(artifact) as zf, zf.open(member) as zfh:
        return zfh.read(64 * 1024)


# ------------------------------------------------------------------ steps


class BuildBinary:
    """Build one target's executable and put it (or its archive) into dist/."""

    reversible = True

    def __init__(self, build: Build) -> None:
        self.build = build
        self.id = BUILD_PREFIX + build.target
        self.needs: tuple[str, ...] = ()

    def describe(self, ctx: Context) -> str:
        try:
            argv, env = command_argv(ctx, self.build)
        except PermanentError as exc:
            return f"build {self.build.name} for {self.build.target}: {exc.what}"
        prefix = " ".join(f"{k}={v}" for k, v in env.items())
        cmd = shlex.join(argv)
        return (
            f"build {self.build.name} for {self.build.target} -> {self.build.artifact.name}\n"
            + (f"{prefix} " if prefix else "")
            + cmd
        )

    def probe(self, ctx: Context) -> Probe:
        artifact = self.build.artifact
        if not artifact.exists():
            return Probe.todo(f"{artifact.name} not built yet")
        recorded = ctx.evidence_of(self.id).get("sha256")
        sha, size = sha256_file(artifact)
        if recorded and recorded != sha:
            return Probe.todo(f"{artifact.name} changed since it was built; building again")
        if not self.build.binary.exists() and ctx.config.binaries.archive == "none":
            return Probe.todo(f"{self.build.binary} is missing; building again")
        return Probe.already_done(self._evidence(sha, size), why=f"{artifact.name} already built")

    def _evidence(self, sha: str, size: int) -> Evidence:
        return {
            "target": self.build.target,
            "name": self.build.artifact.name,
            "path": str(self.build.artifact),
            "binary": str(self.build.binary),
            "sha256": sha,
            "size": size,
        }

    def tools(self, ctx: Context) -> list[Tool]:
        try:
            argv, _ = command_argv(ctx, self.build)
        except PermanentError:
            return []  # run says what is wrong with the command
        if len(argv) > 2 and argv[0] == sys.executable and argv[1] == "-m":
            return [Tool(argv[2], f"{sys.executable} -m pip install {argv[2]}", module=argv[2])]
        preset = ctx.config.binaries.preset
        return [
            Tool(Path(argv[0]).name, TOOL_HINTS.get(preset, TOOL_HINTS["custom"]), program=argv[0])
        ]

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        require_release_tree(ctx, f"the binary for {self.build.target}")
        cfg = ctx.config.binaries
        argv, extra_env = command_argv(ctx, self.build)
        self.build.binary.parent.mkdir(parents=True, exist_ok=True)
        self.build.binary.unlink(missing_ok=True)
        log_path = private_dir(ctx.log_dir) / self.build.log_file_name
        env = tool_env(ctx, extra_env)
        cwd = (ctx.root / cfg.directory).resolve()
        slot = _BUILDS.slot(cfg.parallel or os.cpu_count() or 1)
        progress.status(f"waiting for a build slot ({self.build.target})")
        with cpu_slot(ctx), slot, open_private(log_path, "w") as log_fh:
            progress.status(f"building {self.build.target}")
            log_fh.write(redact(f"$ {shlex.join(argv)}\n"))
            log_fh.flush()

            def on_line(line: str) -> None:
                log_fh.write(redact(line) + "\n")
                progress.log(line)

            result = proc.run(argv, cwd=cwd, env=env, timeout=cfg.timeout, on_line=on_line)
            log_fh.write(f"-> exit {result.returncode} in {result.duration_s:.1f}s\n")
        if not result.ok:
            raise PermanentError(
                f"building the binary for {self.build.target} failed",
                why=result.failure(15),
                hint=f"read {log_path}, fix the build, then `shipit resume`",
            )
        source = built_path(ctx, self.build)
        if source is not None:
            if not source.exists():
                raise PermanentError(
                    f"the build for {self.build.target} left no binary at {source}",
                    hint="set `built-path` in [binaries] to where the command writes it",
                )
            shutil.copyfile(source, self.build.binary)
        if not self.build.binary.exists():
            raise PermanentError(
                f"the build for {self.build.target} produced no file at {self.build.binary}",
                why="the command exited 0 but did not write {output}",
                hint="make the command write to {output}, or set `built-path` in [binaries]; "
                f"log: {log_path}",
            )
        member = f"{self.build.name}{self.build.spec.ext}"
        pack(self.build.binary, self.build.artifact, member, cfg.archive)
        sha, size = sha256_file(self.build.artifact)
        progress.status(f"{self.build.artifact.name}: {size} bytes, sha256 {sha[:12]}")
        return self._evidence(sha, size)

    def undo(self, ctx: Context) -> Undo:
        existed = self.build.artifact.exists()
        self.build.artifact.unlink(missing_ok=True)
        self.build.binary.unlink(missing_ok=True)
        if existed:
            return Undo.undone(f"deleted {self.build.artifact.name} (local file)")
        return Undo.nothing()


class VerifyBinary:
    """Header format and CPU must match the target; the host's binary must print the version."""

    reversible = True

    def __init__(self, build: Build) -> None:
        self.build = build
        self.id = VERIFY_PREFIX + build.target
        self.needs: tuple[str, ...] = (BUILD_PREFIX + build.target,)

    def describe(self, ctx: Context) -> str:
        line = (
            f"check {self.build.artifact.name} is {self.build.spec.describe()} "
            f"({self.build.target})"
        )
        if binformat.runs_here(self.build.spec):
            line += f"\n{self.build.binary} {ctx.config.binaries.smoke_command}"
        return line

    def probe(self, ctx: Context) -> Probe:
        return Probe.todo("verification is local and runs every time")

    def _header(self) -> bytes:
        if self.build.binary.exists():
            with self.build.binary.open("rb") as fh:
                return fh.read(64 * 1024)
        if self.build.artifact.exists() and ctx_archive(self.build) == "none":
            with self.build.artifact.open("rb") as fh:  # the artifact is the binary itself
                return fh.read(64 * 1024)
        if self.build.artifact.exists() and self.build.artifact != self.build.binary:
            member = f"{self.build.name}{self.build.spec.ext}"
            try:
                return _header_of_archive(self.build.artifact, member)
            except (OSError, KeyError, tarfile.TarError, zipfile.BadZipFile) as exc:
                raise PermanentError(
                    f"cannot read {member} inside {self.build.artifact.name} ({self.build.target})",
                    why=str(exc),
                    hint=f"rebuild: delete {self.build.artifact} and run `shipit resume`",
                ) from None
        raise PermanentError(
            f"the binary for {self.build.target} is missing",
            why=f"neither {self.build.binary} nor {self.build.artifact} exists",
            hint=f"delete {self.build.artifact.parent} and run the release again to rebuild",
        )

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        target = self.build.target
        info = binformat.parse(self._header(), name=self.build.binary.name)
        wrong = binformat.mismatch(info, self.build.spec)
        if wrong:
            raise PermanentError(
                f"wrong binary for target {target}",
                why=f"{self.build.artifact.name} {wrong}",
                hint=f"check the build command for {target} (does it pass {{target}}?) "
                "in [binaries], then `shipit resume`",
            )
        evidence: Evidence = {"target": target, "format": info.format, "archs": list(info.archs)}
        recorded = ctx.evidence_of(BUILD_PREFIX + target).get("sha256")
        if recorded and self.build.artifact.exists():
            sha, _ = sha256_file(self.build.artifact)
            if sha != recorded:
                raise PermanentError(
                    f"{self.build.artifact.name} changed after it was built ({target})",
                    why=f"sha256 {sha[:16]}... differs from the recorded {recorded[:16]}...",
                    hint=f"delete {self.build.artifact} and run `shipit resume` to rebuild it",
                )
            evidence["sha256"] = sha
        part = ctx.parts.get(target)
        if part is not None:
            built = part.manifest.build
            evidence["smoke"] = f"on the build machine ({built.host}): {built.smoke}"
        elif binformat.runs_here(self.build.spec):
            evidence["smoke"] = self._smoke(ctx, progress)
        else:
            evidence["smoke"] = "skipped: does not run on this machine"
        progress.status(f"{target}: {info.describe()} ok")
        return evidence

    def _smoke(self, ctx: Context, progress: Progress) -> str:
        target = self.build.target
        binary = self.build.binary
        args = shlex.split(ctx.config.binaries.smoke_command)
        if not binary.exists():
            raise PermanentError(
                f"the binary for {target} is missing at {binary}",
                hint="run the release again to rebuild it",
            )
        progress.status(f"running {binary.name} {' '.join(args)}")
        try:
            result = proc.run([str(binary), *args], timeout=30, env=tool_env(ctx))
        except (OSError, ToolMissingError) as exc:  # not executable here, wrong format
            raise PermanentError(f"the binary for {target} does not start", why=str(exc)) from None
        output = result.output.strip()
        command = f"{binary.name} {' '.join(args)}"
        if not output:
            raise PermanentError(
                f"the binary for {target} printed nothing for `{command}`",
                why=f"exit {result.returncode}, empty output; expected the version {ctx.version}",
                hint="make the program print its version for `smoke-command` "
                "(default --version), or change smoke-command in [binaries]",
            )
        if ctx.version not in output:
            raise PermanentError(
                f"the binary for {target} reports another version",
                why=f"`{command}` printed {output[:200]!r}, which does not contain {ctx.version}",
                hint="pass the version into the build ({version} in the command template), "
                "then `shipit resume`",
            )
        return output.splitlines()[0][:200]

    def undo(self, ctx: Context) -> Undo:
        return Undo.nothing("verification changed nothing")


class PartArtifact:
    """``binaries:build:<target>`` for a target built on another machine (``release --parts``):
    copy the part's file into dist/ and check its sha256 against the part manifest."""

    reversible = True

    def __init__(self, build: Build, part: Part) -> None:
        self.build = build
        self.part = part
        files = part.manifest.files  # `release --parts` checked the name before planning
        self.file = next((f for f in files if f.name == build.artifact.name), files[0])
        self.id = BUILD_PREFIX + build.target
        self.needs: tuple[str, ...] = ()

    def describe(self, ctx: Context) -> str:
        built = self.part.manifest.build
        run = f", CI run {built.ci['run_id']}" if "run_id" in built.ci else ""
        return (
            f"take {self.file.name} for {self.build.target} from its part (built on "
            f"{built.host}{run})\n"
            f"cp {self.part.path_of(self.file.name)} {self.build.artifact}"
        )

    def _evidence(self) -> Evidence:
        m = self.part.manifest
        return {
            "target": self.build.target,
            "name": self.build.artifact.name,
            "path": str(self.build.artifact),
            "sha256": self.file.sha256,
            "size": self.file.size,
            "part": {
                "directory": str(self.part.directory),
                "commit": m.commit,
                "host": m.build.host,
                "built_at": m.build.built_at,
                "ci": dict(m.build.ci),
            },
        }

    def probe(self, ctx: Context) -> Probe:
        artifact = self.build.artifact
        if not artifact.exists():
            return Probe.todo(f"{artifact.name} not taken from its part yet")
        sha, _ = sha256_file(artifact)
        if sha != self.file.sha256:
            return Probe.todo(f"{artifact.name} in dist/ is not the part's file; copying again")
        return Probe.already_done(self._evidence(), why=f"{artifact.name} is the part's file")

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        from shipit.parts import copy_verified

        progress.status(f"taking {self.file.name} from its part")
        copy_verified(self.part.path_of(self.file.name), self.build.artifact, self.file.sha256)
        return self._evidence()

    def undo(self, ctx: Context) -> Undo:
        if self.build.artifact.exists():
            self.build.artifact.unlink()
            return Undo.undone(f"deleted {self.build.artifact.name} (local copy of a part)")
        return Undo.nothing()


def build_steps(ctx: Context) -> list[Step]:
    """Build each target here, or take its file from a part built elsewhere."""
    return [
        PartArtifact(b, ctx.parts[b.target]) if b.target in ctx.parts else BuildBinary(b)
        for b in builds(ctx)
    ]


def verify_steps(ctx: Context) -> list[Step]:
    return [VerifyBinary(b) for b in builds(ctx)]


def build_all(
    ctx: Context, progress_for: Callable[[str], Progress]
) -> dict[str, Evidence | Exception]:
    """Build and verify every target in parallel (``shipit build-binaries``)."""
    from concurrent.futures import ThreadPoolExecutor

    results: dict[str, Evidence | Exception] = {}

    def one(build: Build) -> tuple[str, Evidence | Exception]:
        progress = progress_for(build.target)
        started = time.monotonic()
        try:
            evidence = BuildBinary(build).run(ctx, progress)
            evidence.update(VerifyBinary(build).run(ctx, progress))
            evidence["duration_s"] = time.monotonic() - started
            return build.target, evidence
        except (ShipitError, OSError) as exc:  # one target's failure; the others go on
            return build.target, exc

    todo = builds(ctx)
    workers = max(1, min(len(todo), ctx.config.binaries.parallel or os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for target, outcome in pool.map(one, todo):
            results[target] = outcome
    return results
