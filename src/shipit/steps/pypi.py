"""PyPI steps: ``pypi:build`` (sdist and wheel into the release's dist/pypi, each file hashed)
and ``pypi:publish`` (twine uploads exactly those files, each once).

The probe reads the simple index through ``shipit.registries.pypi`` (links carry ``#sha256=``;
PyPI and pypiserver both serve it) and compares every local file's sha256:
all there and equal means done; some missing means only those are uploaded (a partial upload
is finished, never repeated); a file there with another hash is a conflict. The token reaches
twine through ``TWINE_PASSWORD`` in its environment, never through argv; under trusted
publishing (``shipit.oidc``) that token is one the index minted for this job moments before.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipit import archives, git, oidc, proc
from shipit.engine.step import (
    Context,
    Evidence,
    Probe,
    ProbeState,
    Progress,
    Tool,
    Undo,
    checkpoint,
    cpu_slot,
)
from shipit.errors import (
    OidcNotTrusted,
    OutcomeUnknown,
    PermanentError,
    ToolMissingError,
    TransientError,
)
from shipit.hashing import sha256_file
from shipit.project.republish import NEVER_AGAIN, new_version_hint
from shipit.project.versions import to_pep440
from shipit.redact import register
from shipit.registries.pypi import PyPI, PypiRelease, UploadAuth, upload_auth
from shipit.registries.recent import JustRead
from shipit.steps._kind import one_step_per_target, shown_name
from shipit.steps._output import command_failed, relevant_lines
from shipit.steps._release_env import expand, release_env
from shipit.steps.gate import require_release_tree
from shipit.workspace import DIRNAME, build_leaves_no_trace, private_dir, protect

BUILD_ID = "pypi:build"
PUBLISH_ID = "pypi:publish"
TIMEOUT_S = 900.0
TOKEN_HINT = (
    "create an API token with upload rights for this project (https://pypi.org/manage/account/"
    "token/) and set PYPI_TOKEN, then run `shipit resume`"
)
_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")


# ------------------------------------------------------------------ project facts


def package_dir(ctx: Context) -> Path:
    target = ctx.project.target("pypi")
    if target is not None and target.directory is not None:
        return target.directory
    return (ctx.root / ctx.config.pypi.directory).resolve()


def package_name(ctx: Context) -> str:
    target = ctx.project.target("pypi")
    if target is not None and target.package:
        return target.package
    path = package_dir(ctx) / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PermanentError(
            f"cannot read the Python project's name from {path}",
            why=str(exc),
            hint="add [project] name to pyproject.toml or set [pypi] directory in shipit.toml",
        ) from None
    name = data.get("project", {}).get("name") or data.get("tool", {}).get("poetry", {}).get("name")
    if not isinstance(name, str) or not name:
        raise PermanentError(
            f"no [project] name in {path}", hint="add `name = ...` under [project]"
        )
    return name


def pep440(ctx: Context) -> str:
    return to_pep440(ctx.version)


def out_dir(ctx: Context) -> Path:
    return ctx.dist_dir / "pypi"


def index(ctx: Context) -> PyPI:
    """The configured index: twine uploads to ``upload_url``, probes read ``index``."""
    return PyPI.from_config(ctx.config, ctx.settings)


def upload_url(ctx: Context) -> str:
    """The upload URL as shown and as twine gets it: without ``user:password@``."""
    return upload_auth(ctx.settings, ctx.env).url


def index_url(ctx: Context) -> str:
    return index(ctx).index


# ------------------------------------------------------------------ local files


@dataclass(frozen=True)
class DistFile:
    name: str
    path: Path
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "sha256": self.sha256, "size": self.size}


def _members(path: Path) -> list[str]:
    """The paths of the files inside an sdist or wheel, without the sdist's top directory
    (``name-1.0/``; a ``.zip`` sdist has one too)."""
    inside = archives.names(path)
    if path.name.endswith(".whl"):
        return inside
    return [name.split("/", 1)[1] if "/" in name else name for name in inside]


def _refuse_own_files(ctx: Context, built: list[Path]) -> None:
    """Stop before anything is visible when a built file holds shipit's own ``.shipit/``
    (journal, logs, built files): hatchling, for one, reads only the root .gitignore, not
    ``.shipit/.gitignore`` or ``.git/info/exclude``, and packs everything else."""
    from shipit.checks.secrets import exclude_hint  # checks import the steps' helpers

    for path in built:
        own = [m for m in _members(path) if m.split("/", 1)[0] == DIRNAME]
        if own:
            raise PermanentError(
                f"{path.name} would publish shipit's own {DIRNAME}/ directory "
                "(release journals, logs, built files)",
                why=f"the build backend packed {own[0]} and {len(own) - 1} other file(s) of "
                f"{DIRNAME}/: it does not read {DIRNAME}/.gitignore, only the project's own "
                "ignore rules",
                hint=exclude_hint("pypi", f"{DIRNAME}/", package_dir(ctx))
                + f" (or add {DIRNAME}/ to .gitignore), commit it, then `shipit release`",
            )


def _is_dist(path: Path) -> bool:
    return path.is_file() and path.name.endswith(_DIST_SUFFIXES)


def _matches_version(filename: str, version: str) -> bool:
    # sdist: name-1.0.0.tar.gz; wheel: name-1.0.0-py3-none-any.whl (names normalised by tools)
    return f"-{version}-" in filename or filename.endswith(
        (f"-{version}.tar.gz", f"-{version}.zip")
    )


def local_files(ctx: Context) -> list[DistFile]:
    """The built files: from the journal (re-hashed), else whatever dist/pypi holds."""
    evidence = ctx.evidence_of(BUILD_ID)
    recorded = evidence.get("files")
    files: list[DistFile] = []
    if isinstance(recorded, list) and recorded:
        for item in recorded:
            if isinstance(item, dict):
                path = Path(str(item.get("path")))
                files.append(
                    DistFile(str(item["name"]), path, str(item["sha256"]), int(item["size"]))
                )
        return files
    directory = out_dir(ctx)
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if _is_dist(path):
                files.append(DistFile(path.name, path, sha256_file(path), path.stat().st_size))
    return files


# ------------------------------------------------------------------ the index


@dataclass(frozen=True)
class Comparison:
    present: list[DistFile]
    missing: list[DistFile]
    conflicting: list[tuple[DistFile, str | None]]


def compare(ctx: Context, name: str, files: list[DistFile]) -> Comparison:
    """Each local file against the index: there with our sha256, missing, or other content."""
    pypi = index(ctx)
    remote = pypi.read(name, pep440(ctx))
    present: list[DistFile] = []
    missing: list[DistFile] = []
    conflicting: list[tuple[DistFile, str | None]] = []
    for f in files:
        there = remote.file(f.name)
        if there is None:
            missing.append(f)
            continue
        digest = pypi.sha256_of(there)
        if digest == f.sha256:
            present.append(f)
        else:
            conflicting.append((f, digest))
    return Comparison(present, missing, conflicting)


def _version_on_index(ctx: Context, name: str) -> list[str]:
    release: PypiRelease = index(ctx).read(name, pep440(ctx))
    return [f.filename for f in release.release_files]


# ------------------------------------------------------------------ steps


STAMP = ".shipit-build.json"


def _write_stamp(ctx: Context, evidence: Evidence) -> None:
    """Beside the files: what was built from which commit (for a lost journal)."""
    (out_dir(ctx) / STAMP).write_text(json.dumps(evidence, indent=2) + "\n", encoding="utf-8")


def _read_stamp(ctx: Context) -> Evidence:
    """The stamp of an earlier build of this commit and version, else {}.

    sdists are not byte-for-byte reproducible (tar and gzip timestamps), so when the journal
    is lost the files already built are reused rather than rebuilt with other hashes."""
    try:
        data = json.loads((out_dir(ctx) / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    if data.get("commit") != ctx.commit or data.get("version") != pep440(ctx):
        return {}
    return data


def _build_env(ctx: Context) -> dict[str, str]:
    """The build's environment: the release's variables (``SHIPIT_VERSION``, ...),
    SOURCE_DATE_EPOCH from the commit (reproducible wheels), and the release's version for
    setuptools-scm / hatch-vcs, which would otherwise derive a development version from the
    last tag (the release tag does not exist yet when the build runs)."""
    env = release_env(ctx)
    env.setdefault("SETUPTOOLS_SCM_PRETEND_VERSION", pep440(ctx))
    if "SOURCE_DATE_EPOCH" not in env:
        committed = git.commit_time(ctx.root, ctx.commit)
        if committed is not None:
            env["SOURCE_DATE_EPOCH"] = str(committed)
    return env


def _question(name: str, version: str, files: list[DistFile]) -> Hashable:
    """What a comparison with the index was asked: this name, version and these files."""
    return (name, version, tuple(sorted((f.name, f.sha256) for f in files)))


class PypiBuild:
    """Build sdist and wheel once; record each file's sha256."""

    id = BUILD_ID
    needs: tuple[str, ...] = ()
    reversible = True

    def _argv(self, ctx: Context) -> list[str]:
        command = ctx.config.pypi.build_command
        if command:
            return proc.shell_argv(expand(command, ctx, {"outdir": str(out_dir(ctx))}))
        return [sys.executable, "-m", "build", "--outdir", str(out_dir(ctx)), str(package_dir(ctx))]

    def describe(self, ctx: Context) -> str:
        return f"build the Python sdist and wheel {pep440(ctx)} into {out_dir(ctx)}\n" + " ".join(
            self._argv(ctx)
        )

    def probe(self, ctx: Context) -> Probe:
        evidence = ctx.evidence_of(BUILD_ID) or _read_stamp(ctx)
        recorded = evidence.get("files")
        if not isinstance(recorded, list) or not recorded:
            return Probe.todo("not built yet")
        for item in recorded:
            path = Path(str(item.get("path")))
            if not path.is_file() or sha256_file(path) != item.get("sha256"):
                return Probe.todo(f"{path.name} is missing or changed since it was built")
        return Probe.already_done(dict(evidence), why=f"{len(recorded)} files built")

    def tools(self, ctx: Context) -> list[Tool]:
        if ctx.config.pypi.build_command:
            return []
        return [Tool("build", f"{sys.executable} -m pip install build", module="build")]

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        with cpu_slot(ctx):
            return self._build(ctx, progress)

    def _build(self, ctx: Context, progress: Progress) -> Evidence:
        require_release_tree(ctx, "the Python sdist and wheel")
        directory = out_dir(ctx)
        if directory.exists():
            shutil.rmtree(directory)
        protect(ctx.root)
        private_dir(directory)
        argv = self._argv(ctx)
        progress.status("building sdist and wheel")
        # leave the tree as it was: an egg-info or build/ left behind would make it dirty
        # for `deno publish` and end up in other packages
        with build_leaves_no_trace(package_dir(ctx)):
            result = proc.run(
                argv,
                cwd=package_dir(ctx),
                env=_build_env(ctx),
                timeout=TIMEOUT_S,
                on_line=progress.log,
            )
        if not result.ok and "No module named build" in result.output:
            raise ToolMissingError(
                "the Python `build` package is not installed",
                why=relevant_lines(result.output, 3),
                hint=f"{sys.executable} -m pip install build",
            )
        if not result.ok:
            raise command_failed(
                "the Python build failed",
                result.command,
                result,
                hint=f"run `{result.command}` in {package_dir(ctx)}, fix it, then `shipit resume`",
            )
        version = pep440(ctx)
        built = [p for p in sorted(directory.iterdir()) if _is_dist(p)]
        if not built and ctx.config.pypi.build_command:
            # a custom command that writes to its own dist/: take this version's files
            own = package_dir(ctx) / "dist"
            for path in sorted(own.glob("*")) if own.is_dir() else []:
                if _is_dist(path) and _matches_version(path.name, version):
                    shutil.copy2(path, directory / path.name)
            built = [p for p in sorted(directory.iterdir()) if _is_dist(p)]
        if not built:
            raise PermanentError(
                "the Python build produced no sdist or wheel",
                why=f"nothing in {directory}",
                hint="make the build command write to {outdir} (shipit replaces it)",
            )
        wrong = [p.name for p in built if not _matches_version(p.name, version)]
        if wrong:
            raise PermanentError(
                f"the Python build made files for another version than {version}",
                why=", ".join(wrong),
                hint=f"run `shipit version sync` so pyproject.toml says {version}",
            )
        _refuse_own_files(ctx, built)
        files = [DistFile(p.name, p, sha256_file(p), p.stat().st_size) for p in built]
        evidence: Evidence = {
            "version": version,
            "commit": ctx.commit,
            "files": [f.to_json() for f in files],
        }
        _write_stamp(ctx, evidence)
        return evidence

    def undo(self, ctx: Context) -> Undo:
        directory = out_dir(ctx)
        if not directory.exists():
            return Undo.nothing("no Python files to remove")
        shutil.rmtree(directory)
        return Undo.undone(f"removed {directory}")


class PypiPublish:
    """Upload the built files with twine; only those the index does not have yet."""

    id = PUBLISH_ID
    needs: tuple[str, ...] = (BUILD_ID,)

    def tools(self, ctx: Context) -> list[Tool]:
        return [Tool("twine", f"{sys.executable} -m pip install twine", module="twine")]

    reversible = False

    def __init__(self) -> None:
        # the probe's comparison with the index, for the run that follows it at once
        self._probed: JustRead[tuple[Probe, Comparison]] = JustRead()

    def describe(self, ctx: Context) -> str:
        name = shown_name(package_name, ctx, "<project>")
        auth = _auth(ctx)
        text = (
            f"upload {name} {pep440(ctx)} to {upload_url(ctx)}\n"
            f"python -m twine upload --non-interactive --repository-url {upload_url(ctx)} "
            f"{out_dir(ctx)}/*\n"
            f"# auth: {auth.describe()}"
        )
        if auth.oidc:
            text += f"\n# shipit mints a 15-minute token at {index(ctx).oidc_base}mint-token"
        return text

    def _judge(self, ctx: Context, name: str, files: list[DistFile]) -> tuple[Probe, Comparison]:
        result = compare(ctx, name, files)
        version = pep440(ctx)
        if result.conflicting:
            listing = ", ".join(
                f"{f.name} (index sha256 {d or 'unknown'}, ours {f.sha256})"
                for f, d in result.conflicting
            )
            return (
                Probe.conflict(
                    f"the index already has {name} {version} with other content: {listing}; "
                    "nothing was overwritten (an index never replaces a file, and a rebuilt "
                    f"sdist of the same commit is not byte-identical), and {NEVER_AGAIN}",
                    hint=new_version_hint(ctx.version),
                ),
                result,
            )
        evidence: Evidence = {
            "name": name,
            "version": version,
            "index": index_url(ctx),
            "files": {f.name: f.sha256 for f in result.present},
        }
        if not result.missing:
            return Probe.already_done(
                evidence, why=f"{name} {version}: every file is on the index"
            ), result
        if result.present:
            why = (
                f"{', '.join(f.name for f in result.present)} already there; "
                f"will upload only {', '.join(f.name for f in result.missing)}"
            )
        else:
            why = f"{name} {version} is not on {index_url(ctx)} yet"
        return Probe.todo(why, evidence), result

    def probe(self, ctx: Context) -> Probe:
        name = package_name(ctx)
        files = local_files(ctx)
        if not files:
            there = _version_on_index(ctx, name)
            if there:
                return Probe.todo(
                    f"the index already lists {', '.join(there)}; "
                    "their content is compared once the files are built"
                )
            return Probe.todo(f"{name} {pep440(ctx)} is not on {index_url(ctx)} yet")
        question = _question(name, pep440(ctx), files)
        return self._probed.keep(question, self._judge(ctx, name, files))[0]

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        name = package_name(ctx)
        files = local_files(ctx)
        if not files:
            raise PermanentError(
                "there are no Python files to upload",
                why=f"nothing built in {out_dir(ctx)}",
                hint="run `shipit resume` (it builds first) or `shipit publish pypi`",
            )
        for f in files:
            if not f.path.is_file() or sha256_file(f.path) != f.sha256:
                raise PermanentError(
                    f"{f.name} changed or disappeared since it was built",
                    hint=f"delete {out_dir(ctx)} and run `shipit resume` to build again",
                )

        def read() -> tuple[Probe, Comparison]:
            progress.status(f"checking {index_url(ctx)}")
            return self._judge(ctx, name, files)

        probe, comparison = self._probed.take(_question(name, pep440(ctx), files), read)
        if probe.state is ProbeState.CONFLICT:
            raise PermanentError(probe.why or "conflict", hint=probe.hint)
        if probe.state is ProbeState.ALREADY_DONE:
            progress.log(probe.why or "already uploaded")
            return dict(probe.evidence)
        for f in comparison.present:
            progress.log(f"{f.name} is already on the index with the same sha256")
        token = self._token(ctx, progress)
        # one file per upload: a crash between two leaves a partial release that the next
        # probe completes by uploading only what is missing
        for i, missing in enumerate(comparison.missing):
            if i:
                checkpoint(self.id)
            result = self._upload(ctx, [missing], progress, token)
            if not result.ok:
                return self._failed(ctx, name, files, result)
        # twine's success is the index's answer to each upload: no second look to report it
        return {
            "name": name,
            "version": pep440(ctx),
            "index": index_url(ctx),
            "files": {f.name: f.sha256 for f in files},
        }

    @staticmethod
    def _token(ctx: Context, progress: Progress) -> str | None:
        """The upload token: PYPI_TOKEN, or one minted now by trusted publishing."""
        auth = _auth(ctx)
        if not auth.oidc:
            return ctx.settings.pypi_token
        if auth.problem is not None:
            raise oidc.unavailable(auth, ctx.env)
        progress.status(f"trusted publishing: minting a token at {index(ctx).oidc_base}")
        token = index(ctx).oidc_token(ctx.env)
        progress.log("trusted publishing: minted a short-lived upload token")
        return token

    def _upload(
        self, ctx: Context, files: list[DistFile], progress: Progress, token: str | None
    ) -> proc.Result:
        creds = upload_auth(ctx.settings, ctx.env)  # the URL without user:password@
        if _auth(ctx).oidc:
            creds = UploadAuth(creds.url, "__token__", token, "trusted publishing")
        argv = [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--verbose",
            "--repository-url",
            creds.url,
            *(str(f.path) for f in files),
        ]
        env = dict(ctx.env)
        for key in ("TWINE_REPOSITORY", "TWINE_REPOSITORY_URL", "TWINE_CERT", "TWINE_PASSWORD"):
            env.pop(key, None)
        register(creds.password)
        env.update(creds.env())
        env["NO_COLOR"] = "1"
        env["TERM"] = "dumb"
        progress.status(f"twine upload {', '.join(f.name for f in files)}")
        return proc.run(argv, cwd=ctx.root, env=env, timeout=TIMEOUT_S)

    def _failed(
        self, ctx: Context, name: str, files: list[DistFile], result: proc.Result
    ) -> Evidence:
        """Classify a failed upload; an "already exists" that the index confirms is success."""
        url = upload_url(ctx)
        lines = relevant_lines(result.output)
        what = f"twine could not upload {name} {pep440(ctx)} to {url}"
        if result.timed_out:
            raise OutcomeUnknown(what, why=f"twine timed out after {TIMEOUT_S:.0f}s")
        out = result.output
        if "No module named twine" in out:
            raise ToolMissingError(
                "twine is not installed",
                why=relevant_lines(out, 3),
                hint=f"{sys.executable} -m pip install twine, then `shipit resume`",
            )
        oidc_auth = _auth(ctx).oidc
        if (
            not oidc_auth
            and not upload_auth(ctx.settings, ctx.env).password
            and re.search(r"credentials|password|username", out, re.I)
        ):
            raise PermanentError(f"no PyPI token for {url}", why=lines, hint=TOKEN_HINT)
        status_m = re.search(r"HTTPError: (\d{3})", out) or re.search(
            r"Response from \S+:\s*\n?\s*(\d{3})", out
        )
        status = int(status_m.group(1)) if status_m else None
        if status is not None:
            if status in (401, 403) and oidc_auth:
                raise OidcNotTrusted(
                    f"the package index refused the token it minted for this job: {status}",
                    why=f"{lines}\n(the project's trusted publisher may not cover {name}: a "
                    "token minted for one project cannot upload another)",
                    hint="add a trusted publisher for this project on the index (its "
                    "Publishing settings), then `shipit check --only registry` and "
                    "`shipit resume`",
                )
            if status in (401, 403):
                raise PermanentError(
                    f"the package index rejected the token for {url}: {status}",
                    why=lines,
                    hint=TOKEN_HINT,
                )
            if status in (400, 409) and re.search(r"already exists|previously used", out, re.I):
                probe, _ = self._judge(ctx, name, files)
                if probe.state is ProbeState.CONFLICT:
                    raise PermanentError(probe.why or what, hint=probe.hint)
                if probe.state is ProbeState.ALREADY_DONE:
                    return dict(probe.evidence)
                raise TransientError(what, why=lines, hint="shipit checks the index again")
            if status == 429 or status == 408:
                raise TransientError(what, why=lines)
            if 500 <= status < 600:
                raise OutcomeUnknown(what, why=lines, hint="shipit checks the index first")
            raise PermanentError(
                what, why=lines, hint="fix what the index names above, then `shipit resume`"
            )
        if re.search(
            r"ConnectionError|Connection aborted|RemoteDisconnected|ConnectionReset|"
            r"ReadTimeout|ChunkedEncodingError|ProtocolError|BrokenPipe",
            out,
        ):
            if re.search(r"ConnectionRefused|NewConnectionError|NameResolution", out):
                raise TransientError(what, why=lines, hint="check the upload URL and network")
            raise OutcomeUnknown(what, why=lines, hint="shipit checks the index first")
        raise PermanentError(what, why=lines, hint="fix what twine names above, then resume")

    def undo(self, ctx: Context) -> Undo:
        name = package_name(ctx)
        there = _version_on_index(ctx, name)
        if not there:
            return Undo.nothing(f"{name} {pep440(ctx)} is not on {index_url(ctx)}")
        return Undo.irreversible(
            f"{name} {pep440(ctx)} stays on the index: files on PyPI cannot be deleted or "
            "replaced, only the release can be yanked",
            hint="yank the release in the web interface: "
            + index(ctx).manage_page(name, pep440(ctx)),
        )


def _auth(ctx: Context) -> oidc.Auth:
    return oidc.auth_of("pypi", ctx.config, ctx.settings, ctx.env)


build_steps = one_step_per_target("pypi", PypiBuild)
publish_steps = one_step_per_target("pypi", PypiPublish)
