"""npm steps: ``npm:pack`` (the tarball, built once into the release's dist/) and ``npm:publish``
(exactly that tarball, once).

The probe reads the registry's package document (``shipit.registries.npm``) and compares
``dist.integrity`` of the version with the packed tarball's: equal means done, different is a
conflict that is never overwritten.
A publish whose answer was lost (connection dropped, 5xx after the upload) raises
``OutcomeUnknown``, so the orchestrator probes before it tries again. The token goes to npm
through a private ``.npmrc`` (``NPM_CONFIG_USERCONFIG``), never on the command line. Under
trusted publishing (``shipit.oidc``) no token is given at all: npm exchanges the job's ID token
itself, after shipit made the same exchange to explain a refusal (npm would not).
"""

from __future__ import annotations

import getpass
import json
import logging
import re
from pathlib import Path
from typing import Any

import semver

from shipit import oidc, proc
from shipit.engine.step import (
    Context,
    Evidence,
    Probe,
    ProbeState,
    Progress,
    Tool,
    Undo,
    cpu_slot,
)
from shipit.errors import (
    OidcNotTrusted,
    OutcomeUnknown,
    PermanentError,
    ShipitError,
    TransientError,
)
from shipit.hashing import sha1_file, sha512_integrity
from shipit.project.republish import NEVER_AGAIN, new_version_hint
from shipit.redact import register
from shipit.registries.npm import TOKEN_HINT, Npm, NpmVersion
from shipit.registries.recent import JustRead
from shipit.steps import _npmrc
from shipit.steps._kind import one_step_per_target, shown_name
from shipit.steps._output import command_failed, relevant_lines
from shipit.steps._release_env import expand, release_env
from shipit.steps.gate import require_release_tree
from shipit.workspace import private_dir, protect

log = logging.getLogger("shipit.steps.npm")

PACK_ID = "npm:pack"
PUBLISH_ID = "npm:publish"
NPM_INSTALL_HINT = "install Node.js, which brings npm: https://nodejs.org/en/download"
TIMEOUT_S = 600.0

# npm's error codes (PROTOCOLS.md): what retrying can fix and what it cannot.
_NOT_SENT = {"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "E429", "E408"}
_MAYBE_SENT = {"ECONNRESET", "ETIMEDOUT", "ESOCKETTIMEDOUT", "EPIPE", "ERR_SOCKET_TIMEOUT"}


# ------------------------------------------------------------------ project facts


def package_dir(ctx: Context) -> Path:
    target = ctx.project.target("npm")
    if target is not None and target.directory is not None:
        return target.directory
    return (ctx.root / ctx.config.npm.directory).resolve()


def _manifest(directory: Path) -> dict[str, Any]:
    path = directory / "package.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise PermanentError(f"cannot read {path}", why=str(exc), hint=f"fix {path}") from None
    return data if isinstance(data, dict) else {}


def not_built_yet(ctx: Context) -> bool:
    """True when ``[npm] build-command`` makes the package and it has not run yet (a dnt
    build into npm/): nothing can tell the package's name before."""
    return (
        bool(ctx.config.npm.build_command)
        and not ctx.evidence_of(PACK_ID).get("name")
        and not (package_dir(ctx) / "package.json").is_file()
    )


def package_name(ctx: Context) -> str:
    """The npm package name: from the pack evidence, detection, or package.json."""
    name = ctx.evidence_of(PACK_ID).get("name")
    if isinstance(name, str) and name:
        return name
    target = ctx.project.target("npm")
    if target is not None and target.package:
        return target.package
    found = _manifest(package_dir(ctx)).get("name")
    if isinstance(found, str) and found:
        return found
    raise PermanentError(
        "cannot tell the npm package's name",
        why=f"no `name` in {package_dir(ctx) / 'package.json'}",
        hint="add a `name` to package.json or set [npm] directory in shipit.toml",
    )


def tarball_filename(name: str, version: str) -> str:
    """npm pack's file name: ``@scope/pkg`` 1.2.3 -> ``scope-pkg-1.2.3.tgz``."""
    base = name[1:].replace("/", "-") if name.startswith("@") else name
    return f"{base}-{version}.tgz"


def choose_dist_tag(version: str, configured: str | None, latest: str | None) -> tuple[str, str]:
    """The dist-tag for ``version`` and why: configured, pre-release id, latest, or backport."""
    if configured:
        return configured, "configured in [npm] tag"
    try:
        parsed = semver.Version.parse(version)
    except ValueError:
        return "latest", "default"
    if parsed.prerelease:
        ident = str(parsed.prerelease).split(".")[0]
        if not ident or ident.isdigit() or ident.lower() == "x":
            ident = "next"
        return ident, f"pre-release `{parsed.prerelease}`"
    if latest:
        try:
            current = semver.Version.parse(latest)
        except ValueError:
            current = None
        if current is not None and parsed < current:
            return (
                f"latest-{parsed.major}",
                f"{version} is lower than the registry's latest {latest}",
            )
    return "latest", "newest stable version"


# ------------------------------------------------------------------ registry reads


def read_registry(ctx: Context, name: str, version: str) -> NpmVersion:
    """What the configured registry holds for ``name`` and ``version``."""
    return Npm.from_settings(ctx.settings).read(name, version)


def local_tarball(ctx: Context) -> tuple[Path | None, str | None]:
    """The packed tarball and its integrity: from the journal, else recomputed from disk."""
    evidence = ctx.evidence_of(PACK_ID)
    path_s = evidence.get("tarball")
    integrity = evidence.get("integrity")
    if isinstance(path_s, str) and isinstance(integrity, str):
        return Path(path_s), integrity
    try:
        name = package_name(ctx)
    except ShipitError:
        return None, None
    path = ctx.dist_dir / tarball_filename(name, ctx.version)
    if path.is_file():
        return path, sha512_integrity(path)
    return None, None


def _compare(ctx: Context, name: str, state: NpmVersion, integrity: str | None) -> Probe:
    registry = ctx.settings.npm_registry
    if not state.exists:
        return Probe.todo(f"{name}@{ctx.version} is not on {registry} yet")
    if integrity is None:
        return Probe.todo(
            f"{name}@{ctx.version} is already on {registry}; "
            "its content is compared once the tarball is packed"
        )
    evidence: Evidence = {
        "name": name,
        "version": ctx.version,
        "registry": registry,
        "integrity": state.integrity,
    }
    if state.integrity == integrity:
        return Probe.already_done(
            evidence, why=f"{name}@{ctx.version} is on {registry} with this content"
        )
    return Probe.conflict(
        f"npm already has {name}@{ctx.version} with other content "
        f"(registry integrity {state.integrity}, ours {integrity}); nothing was overwritten, "
        f"and {NEVER_AGAIN}",
        hint=f"{new_version_hint(ctx.version)} (what npm holds: "
        f"`npm view {name}@{ctx.version} dist --registry {_npmrc.public_url(registry)}`)",
    )


# ------------------------------------------------------------------ npm invocations


def _npm() -> str:
    return proc.require("npm", hint=NPM_INSTALL_HINT)


def _base_env(ctx: Context) -> dict[str, str]:
    env = dict(ctx.env)
    env.update(
        {
            "NPM_CONFIG_UPDATE_NOTIFIER": "false",
            "NPM_CONFIG_FUND": "false",
            "NPM_CONFIG_AUDIT": "false",
            "NPM_CONFIG_COLOR": "false",
            "NO_COLOR": "1",
        }
    )
    return env


def _error_of(result: proc.Result) -> tuple[str | None, str]:
    """npm's error code (E401, ECONNRESET, ...) and summary from --json stdout or stderr."""
    code: str | None = None
    summary = ""
    text = result.stdout.strip()
    start = text.find("{")
    if start >= 0:
        try:
            data, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            err = data["error"]
            code = err.get("code") if isinstance(err.get("code"), str) else None
            summary = str(err.get("summary") or "")
    m = re.search(r"npm (?:error|ERR!) code (\S+)", result.stderr)
    if code is None and m:
        code = m.group(1)
    if code is None:
        m = re.search(r"\b(E[45]\d\d)\b", result.output)
        code = m.group(1) if m else None
    return code, summary


def _json_docs(stdout: str) -> list[Any]:
    """Every JSON value printed on a line of its own (npm may print script output too)."""
    found: list[Any] = []
    decoder = json.JSONDecoder()
    lines = stdout.splitlines(keepends=True)
    offset = 0
    for line in lines:
        if line.lstrip().startswith(("[", "{")):
            try:
                value, _ = decoder.raw_decode(stdout[offset + len(line) - len(line.lstrip()) :])
                found.append(value)
            except json.JSONDecodeError:
                pass
        offset += len(line)
    return found


# ------------------------------------------------------------------ the steps


class NpmPack:
    """Run the optional build, then ``npm pack --json`` into the release's dist directory."""

    id = PACK_ID
    needs: tuple[str, ...] = ()
    reversible = True

    def describe(self, ctx: Context) -> str:
        lines = [f"pack the npm package in {package_dir(ctx)} for {ctx.version}"]
        if ctx.config.npm.build_command:
            lines.append(expand(ctx.config.npm.build_command, ctx))
        lines.append(f"npm pack --json --pack-destination {ctx.dist_dir}")
        return "\n".join(lines)

    def probe(self, ctx: Context) -> Probe:
        evidence = ctx.evidence_of(PACK_ID)
        path_s, integrity = evidence.get("tarball"), evidence.get("integrity")
        if isinstance(path_s, str) and isinstance(integrity, str):
            path = Path(path_s)
            if path.is_file() and sha512_integrity(path) == integrity:
                return Probe.already_done(dict(evidence), why=f"{path.name} is packed")
            return Probe.todo(f"{path.name} is missing or changed since it was packed")
        return Probe.todo("not packed yet")

    def tools(self, ctx: Context) -> list[Tool]:
        return [Tool("npm", NPM_INSTALL_HINT)]

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        with cpu_slot(ctx):
            return self._pack(ctx, progress)

    def _pack(self, ctx: Context, progress: Progress) -> Evidence:
        require_release_tree(ctx, "the npm package")
        directory = package_dir(ctx)
        command = ctx.config.npm.build_command
        if command:
            command = expand(command, ctx)
            progress.status(f"building: {command}")
            built = proc.run(
                proc.shell_argv(command),
                cwd=ctx.root,
                env=release_env(ctx),
                timeout=TIMEOUT_S,
                on_line=progress.log,
            )
            if not built.ok:
                raise command_failed(
                    "the npm build command failed",
                    command,
                    built,
                    hint=f"run `{command}` yourself, fix it, then `shipit resume`",
                )
        manifest = _manifest(directory)
        if not manifest:
            raise PermanentError(
                f"no package.json in {directory}",
                hint="set [npm] directory (or build-command) in shipit.toml",
            )
        if manifest.get("version") != ctx.version:
            raise PermanentError(
                f"{directory / 'package.json'} says version {manifest.get('version')!r}, "
                f"but the release is {ctx.version}",
                why="npm would pack the wrong version",
                hint=f"run `shipit version sync` (or set {ctx.version} in package.json)",
            )
        protect(ctx.root)
        private_dir(ctx.dist_dir)
        progress.status("npm pack")
        argv = [_npm(), "pack", "--json", "--pack-destination", str(ctx.dist_dir)]
        result = proc.run(argv, cwd=directory, env=_base_env(ctx), timeout=TIMEOUT_S)
        if not result.ok:
            raise PermanentError(
                f"`npm pack` failed in {directory}",
                why=relevant_lines(result.output),
                hint=f"run `npm pack --dry-run` in {directory} to see the problem",
            )
        info = next(
            (
                d[0]
                for d in _json_docs(result.stdout)
                if isinstance(d, list) and d and isinstance(d[0], dict) and "filename" in d[0]
            ),
            None,
        )
        if not isinstance(info, dict) or "filename" not in info:
            raise PermanentError(
                "`npm pack --json` printed no package description",
                why=relevant_lines(result.output),
                hint="update npm (`npm install -g npm`) and try again",
            )
        tarball = ctx.dist_dir / str(info["filename"])
        leaked = [
            str(f.get("path"))
            for f in info.get("files") or []
            if isinstance(f, dict) and str(f.get("path", "")).startswith(".shipit/")
        ]
        if leaked:
            tarball.unlink(missing_ok=True)
            raise PermanentError(
                "npm would pack shipit's own files into the package",
                why=", ".join(leaked[:5]),
                hint='add ".shipit/" to .npmignore (or list your files in package.json "files")',
            )
        integrity = sha512_integrity(tarball)
        if info.get("integrity") and info["integrity"] != integrity:
            raise PermanentError(
                f"{tarball.name} on disk does not match what npm pack reported",
                hint="delete the dist directory and run again",
            )
        return {
            "tarball": str(tarball),
            "filename": tarball.name,
            "name": info.get("name"),
            "version": info.get("version"),
            "integrity": integrity,
            "shasum": sha1_file(tarball),
            "size": tarball.stat().st_size,
            "files": len(info.get("files") or []),
        }

    def undo(self, ctx: Context) -> Undo:
        path, _ = local_tarball(ctx)
        if path is None or not path.exists():
            return Undo.nothing("no tarball to remove")
        path.unlink()
        return Undo.undone(f"removed {path.name}")


class NpmPublish:
    """Publish the packed tarball with ``npm publish <tarball>``, exactly once."""

    id = PUBLISH_ID
    needs: tuple[str, ...] = (PACK_ID,)
    reversible = True

    def __init__(self) -> None:
        self._probed: JustRead[NpmVersion] = JustRead()  # the probe's read, for the run

    def tools(self, ctx: Context) -> list[Tool]:
        return [Tool("npm", NPM_INSTALL_HINT)]

    def describe(self, ctx: Context) -> str:
        name = shown_name(package_name, ctx, "<package>")
        tag, _ = choose_dist_tag(ctx.version, ctx.config.npm.tag, None)
        parts = [
            "npm publish",
            tarball_filename(name, ctx.version),
            "--json",
            "--registry",
            ctx.settings.npm_registry,
            "--tag",
            tag,
        ]
        if ctx.config.npm.access:
            parts += ["--access", ctx.config.npm.access]
        if self._provenance(ctx):
            parts.append("--provenance")
        auth = _auth(ctx)
        lines = [f"publish {name}@{ctx.version} to {ctx.settings.npm_registry}", " ".join(parts)]
        lines.append(f"# auth: {auth.describe()}")
        if auth.oidc:
            lines.append("# npm exchanges the job's ID token itself; shipit tries it first")
        return "\n".join(lines)

    @staticmethod
    def _provenance(ctx: Context) -> bool:
        ambient = oidc.Ambient.of(ctx.env)
        return ctx.config.npm.provenance and ambient.available and not ambient.sandbox

    def probe(self, ctx: Context) -> Probe:
        if not_built_yet(ctx):
            return Probe.todo(
                f"the npm package is made by `{ctx.config.npm.build_command}`: its name is "
                "known once it is built (npm:pack)"
            )
        name = package_name(ctx)
        state = self._probed.keep((name, ctx.version), read_registry(ctx, name, ctx.version))
        if not state.exists:
            return _compare(ctx, name, state, None)
        _, integrity = local_tarball(ctx)
        return _compare(ctx, name, state, integrity)

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        tarball, integrity = local_tarball(ctx)
        if tarball is None or integrity is None or not tarball.is_file():
            raise PermanentError(
                "there is no npm tarball to publish",
                why=f"nothing packed in {ctx.dist_dir}",
                hint="run `shipit resume` (it packs first) or `shipit publish npm`",
            )
        actual = sha512_integrity(tarball)
        if actual != integrity:
            raise PermanentError(
                f"{tarball.name} changed since it was packed",
                why=f"recorded {integrity}, now {actual}",
                hint=f"delete {tarball} and run `shipit resume` to pack it again",
            )
        name = package_name(ctx)
        progress.status(f"checking {ctx.settings.npm_registry}")
        state = self._probed.take(
            (name, ctx.version), lambda: read_registry(ctx, name, ctx.version)
        )
        probe = _compare(ctx, name, state, integrity)
        if probe.state is ProbeState.ALREADY_DONE:
            progress.log(probe.why or "already published")
            return {**probe.evidence, "tag": None, "already": True}
        if probe.state is ProbeState.CONFLICT:
            raise PermanentError(probe.why or "conflict", hint=probe.hint)
        tag, reason = choose_dist_tag(ctx.version, ctx.config.npm.tag, state.latest)
        progress.log(f"dist-tag {tag} ({reason})")
        if ctx.config.npm.provenance and not self._provenance(ctx):
            progress.log(
                "provenance skipped: "
                + (
                    "the sandbox's ID tokens cannot reach Sigstore"
                    if oidc.Ambient.of(ctx.env).sandbox
                    else "only available in GitHub Actions with id-token"
                )
            )
        auth = _auth(ctx)
        if auth.oidc:
            if auth.problem is not None:
                raise oidc.unavailable(auth, ctx.env)
            progress.status("trying npm's trusted-publishing exchange")
            npm = Npm(ctx.settings.npm_registry)
            id_token = npm.preflight_oidc(name, _manifest(package_dir(ctx)), ctx.env)
            progress.log(f"trusted publishing for {id_token.identity()}")
        result = self._publish(ctx, tarball, name, tag, progress, otp=ctx.env.get("NPM_OTP"))
        if result.ok:
            return {
                "name": name,
                "version": ctx.version,
                "registry": ctx.settings.npm_registry,
                "integrity": integrity,
                "tag": tag,
            }
        return self._failed(ctx, result, tarball, name, tag, integrity, progress)

    def _publish(
        self,
        ctx: Context,
        tarball: Path,
        name: str,
        tag: str,
        progress: Progress,
        otp: str | None,
    ) -> proc.Result:
        registry = _npmrc.public_url(ctx.settings.npm_registry)
        argv = [_npm(), "publish", str(tarball), "--json", "--registry", registry, "--tag", tag]
        if ctx.config.npm.access:
            argv += ["--access", ctx.config.npm.access]
        if self._provenance(ctx):
            argv.append("--provenance")
        if name.startswith("@"):
            argv.append(f"--{name.split('/')[0]}:registry={registry}")
        env = _base_env(ctx)
        # shipit retries (with a probe in between); npm's own retries would hide outcomes.
        env["NPM_CONFIG_FETCH_RETRIES"] = "0"
        if otp:
            register(otp)
            env["NPM_CONFIG_OTP"] = otp
        progress.status(f"npm publish {tarball.name} --tag {tag}")
        token = ctx.settings.npm_token if not _auth(ctx).oidc else None
        with _npmrc.auth_env(ctx.settings.npm_registry, token, env) as auth:
            return proc.run(argv, cwd=ctx.dist_dir, env={**env, **auth}, timeout=TIMEOUT_S)

    def _failed(
        self,
        ctx: Context,
        result: proc.Result,
        tarball: Path,
        name: str,
        tag: str,
        integrity: str,
        progress: Progress,
    ) -> Evidence:
        registry = ctx.settings.npm_registry
        code, summary = _error_of(result)
        lines = relevant_lines(result.output)
        what = f"npm could not publish {name}@{ctx.version} to {registry}"
        if result.timed_out:
            raise OutcomeUnknown(what, why=f"npm publish timed out after {TIMEOUT_S:.0f}s")
        if "cannot publish over" in result.output:
            # Maybe our own earlier attempt; only the integrity can tell.
            state = read_registry(ctx, name, ctx.version)
            probe = _compare(ctx, name, state, integrity)
            if probe.state is ProbeState.ALREADY_DONE:
                return {**probe.evidence, "tag": tag}
            if probe.state is ProbeState.TODO:  # gone from the document: unpublished before
                raise PermanentError(
                    f"{registry} refuses {name}@{ctx.version}: this version was published "
                    f"before and removed (unpublished or rolled back), and {NEVER_AGAIN}",
                    why=lines,
                    hint=new_version_hint(ctx.version),
                )
            raise PermanentError(probe.why or what, hint=probe.hint)
        if code == "EOTP":
            otp = self._ask_otp(ctx)
            if otp is None:
                raise PermanentError(
                    f"{registry} asks for a one-time password to publish {name}",
                    why=lines,
                    hint="set NPM_OTP to a fresh code from your authenticator and run "
                    "`shipit resume`, or use a granular access token that bypasses 2FA "
                    "for automation",
                )
            retry = self._publish(ctx, tarball, name, tag, progress, otp=otp)
            if retry.ok:
                return {
                    "name": name,
                    "version": ctx.version,
                    "registry": registry,
                    "integrity": integrity,
                    "tag": tag,
                }
            return self._failed(ctx, retry, tarball, name, tag, integrity, progress)
        if _auth(ctx).oidc and code in ("E401", "ENEEDAUTH", "E404"):
            raise OidcNotTrusted(
                f"npm's own trusted-publishing exchange for {name} failed: {code}",
                why=f"{lines}\n(npm does not say why; shipit's exchange had just succeeded, "
                "so the trust or the package changed, or npm could not get an ID token)",
                hint="run `shipit check --only registry` in the job, then `shipit resume`",
            )
        raise classify(code, summary, lines, registry=registry, what=what, name=name)

    @staticmethod
    def _ask_otp(ctx: Context) -> str | None:
        if ctx.env.get("NPM_OTP"):
            return None  # it was used already and rejected
        if not ctx.interactive or ctx.ci:
            return None
        code = getpass.getpass("npm one-time password: ").strip()
        return code or None

    def undo(self, ctx: Context) -> Undo:
        name = package_name(ctx)
        registry = ctx.settings.npm_registry
        spec = f"{name}@{ctx.version}"
        deprecate = (
            f'npm deprecate {spec} "{ctx.version} was withdrawn; use another version" '
            f"--registry {registry}"
        )
        state = read_registry(ctx, name, ctx.version)
        if not state.exists:
            return Undo.nothing(f"{spec} is not on {registry}")
        _, integrity = local_tarball(ctx)
        if integrity is not None and state.integrity != integrity:
            return Undo.irreversible(
                f"{registry} holds {spec} with content shipit did not publish; left alone",
                hint=f"check it with `npm view {spec} --registry {registry}`",
            )
        argv = [_npm(), "unpublish", spec, "--registry", _npmrc.public_url(registry)]
        if len(state.versions) <= 1:
            argv.append("--force")  # npm insists for the last version of a package
        env = _base_env(ctx)
        with _npmrc.auth_env(registry, ctx.settings.npm_token, env) as auth:
            result = proc.run(argv, cwd=ctx.root, env={**env, **auth}, timeout=TIMEOUT_S)
        if result.ok:
            return Undo.undone(f"unpublished {spec} from {registry}")
        return Undo.irreversible(
            f"{registry} refused to unpublish {spec}: {relevant_lines(result.output, 3)}",
            hint=f"mark it deprecated instead: `{deprecate}`",
        )


def classify(
    code: str | None, summary: str, lines: str, *, registry: str, what: str, name: str
) -> ShipitError:
    """Turn npm's error code into a transient or permanent step failure."""
    why = lines or summary or "npm gave no reason"
    if code in ("E401", "ENEEDAUTH"):
        return PermanentError(
            f"npm rejected the token for {registry}: {code}",
            why=why,
            hint=f"{TOKEN_HINT}, then run `shipit resume`",
        )
    if code == "E403":
        return PermanentError(
            f"npm refused to let this token publish {name} to {registry}: E403",
            why=why,
            hint="check that the token may publish this package (and that 2FA does not "
            "require an OTP for it); npm tokens are managed at "
            "https://www.npmjs.com/settings/~/tokens",
        )
    if code == "E404":
        return PermanentError(
            f"{registry} does not know {name} or its scope: E404",
            why=why,
            hint="check the package name and that the scope exists and the token may publish to it",
        )
    if code in _NOT_SENT:
        return TransientError(what, why=why, hint="the registry is busy; shipit retries")
    if code in _MAYBE_SENT or (code is not None and re.fullmatch(r"E5\d\d", code)):
        return OutcomeUnknown(what, why=why, hint="shipit checks the registry before trying again")
    if code is None and re.search(r"socket hang up|network|ECONN", lines, re.IGNORECASE):
        return OutcomeUnknown(what, why=why, hint="shipit checks the registry before trying again")
    return PermanentError(what, why=why, hint="fix the problem npm names above, then resume")


def _auth(ctx: Context) -> oidc.Auth:
    return oidc.auth_of("npm", ctx.config, ctx.settings, ctx.env)


pack_steps = one_step_per_target("npm", NpmPack)
publish_steps = one_step_per_target("npm", NpmPublish)
