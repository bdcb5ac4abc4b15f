"""JSR step: ``jsr:publish`` runs the real ``deno publish --token`` in the package directory,
once.

The probe reads JSR's public metadata through ``shipit.registries.jsr`` (the versions, and each
published file's ``sha256-`` checksum) and compares the published files with what deno uploads
from the package directory (``registries.jsr_content``: module specifiers unfurled through the
import map): equal means done, different is a conflict. A tag-driven package (a deno.json
without ``version``) is published with ``deno publish --set-version``. deno's failures are
told apart by its exact messages and JSR's error codes. deno skips a version that exists ("Skipping,
already published") with exit 0, so every success is verified by that probe. A publish whose
answer was lost waits, visibly, for JSR to finish processing, and otherwise raises
``OutcomeUnknown`` so the orchestrator probes before it retries.

deno takes the token only as ``--token`` on its command line (deno's
``cli/tools/publish/auth.rs``: ``--token``, GitHub Actions OIDC or an interactive login; no
environment variable or file), where any local user could read it. So the token never goes
to deno: a ``shipit.relay.TokenRelay`` on 127.0.0.1 stands in for JSR during the publish,
deno gets its URL as ``JSR_URL`` and a one-time ``--token`` only that relay accepts, and the
relay sends the real token on to JSR. deno's environment carries no token either. Under
trusted publishing (``shipit.oidc``) there is no token: deno asks GitHub Actions for the ID
token itself, after shipit checked that the package is linked to the job's repository; deno
then also publishes a provenance attestation, except in the sandbox (Sigstore cannot run
offline).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipit import git, oidc, proc
from shipit.engine.step import Context, Evidence, Probe, ProbeState, Progress, Tool, Undo
from shipit.errors import (
    ConfigError,
    NotARepoError,
    OidcNotTrusted,
    OidcTokenInvalid,
    OutcomeUnknown,
    PermanentError,
    RegistryError,
    ShipitError,
    TransientError,
)
from shipit.project.manifests import loads_jsonc
from shipit.project.republish import NEVER_AGAIN, new_version_hint
from shipit.redact import SECRET_ENV_VARS
from shipit.registries import jsr_content
from shipit.registries.jsr import TOKEN_HINT, Jsr, JsrVersion, error_code, split_name
from shipit.relay import TokenRelay
from shipit.steps._kind import one_step_per_target, shown_name
from shipit.steps._output import relevant_lines
from shipit.steps.gate import require_release_tree
from shipit.workspace import protect

PUBLISH_ID = "jsr:publish"
TIMEOUT_S = 900.0
SETTLE_S = 30.0  # how long a run waits for JSR to finish processing an upload it lost sight of
DENO_HINT = "install deno (`pip install deno` or https://docs.deno.com/runtime/getting_started/)"
_MANIFESTS = ("deno.json", "deno.jsonc", "jsr.json")
OIDC_HINT = "`shipit check --only registry` in the job, then `shipit resume`"
_PERMANENT_CODES = {
    "invalidBearerToken": "JSR rejected the token",
    "missingAuthentication": "JSR wants a token",
    "missingPermission": "the token may not publish this package",
    "actorNotScopeMember": "the token's user is not a member of the scope",
    "actorNotScopeAdmin": "the token's user is not an admin of the scope",
    "scopeRequiresPublishingFromCI": "the scope only accepts publishes from CI (GitHub OIDC)",
    "packageArchived": "the package is archived",
    "weeklyPublishAttemptsLimitExceeded": "the weekly publish limit of the scope is used up",
    "tarballSizeLimitExceeded": "the package is larger than JSR's 20 MiB limit",
    "malformedRequest": "JSR refused the request as malformed",
    "invalidConfigFile": "JSR refused the package's config file",
    "graphError": "JSR could not resolve the package's module graph",
    "invalidPath": "the package contains a path JSR does not accept",
    "missingConfigFile": "JSR found no config file in the package",
}


# ------------------------------------------------------------------ project facts


def package_dir(ctx: Context) -> Path:
    target = ctx.project.target("jsr")
    if target is not None and target.directory is not None:
        return target.directory
    return (ctx.root / ctx.config.jsr.directory).resolve()


def _manifest(ctx: Context) -> tuple[Path, dict[str, Any]] | None:
    """The first of deno.json, deno.jsonc, jsr.json with a ``name`` (JSR's own rule)."""
    directory = package_dir(ctx)
    for file in _MANIFESTS:
        path = directory / file
        if path.is_file():
            try:
                data = loads_jsonc(path.read_text(encoding="utf-8"), path)
            except ConfigError as exc:
                raise PermanentError(exc.what, why=exc.why, hint=exc.hint) from None
            if isinstance(data.get("name"), str) and data["name"]:
                return path, data
    return None


def package_name(ctx: Context) -> str:
    """``@scope/name`` from detection, else from deno.json(c) / jsr.json."""
    target = ctx.project.target("jsr")
    if target is not None and target.package:
        return target.package
    found = _manifest(ctx)
    if found is not None:
        return str(found[1]["name"])
    directory = package_dir(ctx)
    raise PermanentError(
        "cannot tell the JSR package's name",
        why=f"no `name` in deno.json, deno.jsonc or jsr.json in {directory}",
        hint='add `"name": "@scope/package"` to deno.json',
    )


def registry(ctx: Context) -> Jsr:
    return Jsr.from_settings(ctx.settings)


def jsr_url(ctx: Context) -> str:
    return registry(ctx).url


def _auth(ctx: Context) -> oidc.Auth:
    return oidc.auth_of("jsr", ctx.config, ctx.settings, ctx.env)


def _provenance(ctx: Context, auth: oidc.Auth) -> tuple[bool, str]:
    """Whether deno publishes a provenance attestation (Sigstore), and why (or why not)."""
    if not auth.oidc:
        return False, "provenance needs trusted publishing from GitHub Actions"
    if oidc.Ambient.of(ctx.env).sandbox:
        return False, (
            "provenance off: the sandbox's ID tokens come from 127.0.0.1, and Sigstore cannot "
            "run offline"
        )
    if ctx.env.get("DISABLE_JSR_PROVENANCE"):
        return False, "provenance off: DISABLE_JSR_PROVENANCE is set"
    return True, "deno publishes a provenance attestation (Sigstore)"


# ------------------------------------------------------------------ registry reads


def read_published(ctx: Context, name: str, version: str) -> JsrVersion:
    return registry(ctx).read(name, version)


def differing_files(
    ctx: Context, name: str, directory: Path, files: Mapping[str, str]
) -> list[str]:
    """Published paths whose local file is missing or is not what deno uploads from it."""
    jsr = registry(ctx)
    return jsr_content.differing_files(
        directory, files, fetch=lambda path: jsr.read_file(name, ctx.version, path)
    )


def judge(ctx: Context, name: str) -> Probe:
    published = read_published(ctx, name, ctx.version)
    base = published.registry
    if not published.exists:
        return Probe.todo(f"{name}@{ctx.version} is not on {base} yet")
    directory = package_dir(ctx)
    wrong = differing_files(ctx, name, directory, published.files or {})
    if wrong:
        return Probe.conflict(
            f"JSR already has {name}@{ctx.version} with other content: "
            f"{', '.join(wrong[:8])} differ{'s' if len(wrong) == 1 else ''} from {directory}; "
            f"nothing was overwritten, and {NEVER_AGAIN}",
            hint=f"{new_version_hint(ctx.version)} (see {published.url})",
        )
    if published.yanked:
        return Probe.conflict(
            f"JSR holds {name}@{ctx.version} yanked (a rollback or a scope admin yanked it): "
            f"it stays yanked, and {NEVER_AGAIN}",
            hint=f"{new_version_hint(ctx.version)} (the yanked one stays on {published.url})",
        )
    evidence: Evidence = {
        "package": name,
        "version": ctx.version,
        "url": published.url,
        "files": dict(published.files or {}),
    }
    return Probe.already_done(evidence, why=f"{name}@{ctx.version} is on {base} with this content")


# ------------------------------------------------------------------ git state


def dirty_files(directory: Path) -> list[str] | None:
    """Absolute paths git reports as changed or untracked under ``directory`` (None: not in a
    git work tree)."""
    try:
        return [str(path) for path in git.changed_paths(directory)]
    except NotARepoError:
        return None


def own_files(ctx: Context) -> set[str]:
    """Files shipit itself writes during a release: version sources and its .shipit/ tree."""
    owned = {str((ctx.root / s.file).resolve()) for s in ctx.project.sources}
    owned |= {str((ctx.root / vf.file).resolve()) for vf in ctx.config.project.version_files}
    return owned


# ------------------------------------------------------------------ the step


class JsrPublish:
    """Publish the package with ``deno publish``; verify through JSR's metadata."""

    id = PUBLISH_ID
    needs: tuple[str, ...] = ()
    reversible = True  # by yanking (the version stays, hidden from resolution)

    def describe(self, ctx: Context) -> str:
        name = shown_name(package_name, ctx, "<package>")
        auth = _auth(ctx)
        provenance, why = _provenance(ctx, auth)
        credential = "" if auth.oidc else " --token <one-time>"
        where = jsr_url(ctx) if auth.oidc else f"<shipit's loopback relay to {jsr_url(ctx)}>"
        flags = "" if provenance else " --no-provenance"
        try:
            found = _manifest(ctx)
        except ShipitError:
            found = None
        if found is not None and found[1].get("version") is None:
            flags += f" --set-version {ctx.version}"
        return (
            f"publish {name}@{ctx.version} to {jsr_url(ctx)}\n"
            f"JSR_URL={where} deno publish{credential}{flags}  (in {package_dir(ctx)})\n"
            f"# auth: {auth.describe()}\n"
            f"# {why}"
        )

    def probe(self, ctx: Context) -> Probe:
        return judge(ctx, package_name(ctx))

    def tools(self, ctx: Context) -> list[Tool]:
        return [Tool("deno", DENO_HINT)]

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        require_release_tree(ctx, "the JSR package")
        name = package_name(ctx)
        split_name(name)
        progress.status(f"checking {jsr_url(ctx)}")
        before = judge(ctx, name)
        if before.state is ProbeState.ALREADY_DONE:
            progress.log(before.why or "already published")
            return dict(before.evidence)
        if before.state is ProbeState.CONFLICT:
            raise PermanentError(before.why or "conflict", hint=before.hint)
        found = _manifest(ctx)
        stated = found[1].get("version") if found is not None else None
        if found is not None and stated is not None and stated != ctx.version:
            raise PermanentError(
                f"{found[0]} says version {found[1].get('version')!r}, "
                f"but the release is {ctx.version}",
                why="deno would publish the version its config file names",
                hint=f"run `shipit version sync` (or set {ctx.version} in {found[0].name})",
            )
        auth = _auth(ctx)
        if auth.oidc and auth.problem is not None:
            raise oidc.unavailable(auth, ctx.env)
        token = None if auth.oidc else ctx.settings.jsr_token
        if not token and not auth.oidc:
            raise PermanentError(
                f"no JSR token to publish {name}",
                why=auth.problem or "JSR_TOKEN is not set",
                hint=TOKEN_HINT,
            )
        if auth.oidc:
            id_token = registry(ctx).preflight_oidc(name, ctx.env)
            progress.log(f"trusted publishing for {id_token.identity()}")
        provenance, why = _provenance(ctx, auth)
        progress.log(why)
        protect(ctx.root)
        argv = self._argv(ctx, provenance)
        if found is not None and stated is None:  # tag-driven: the release names the version
            argv += ["--set-version", ctx.version]
        env = {k: v for k, v in ctx.env.items() if k not in SECRET_ENV_VARS}
        env.update({"DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"})
        argv += self._dirty_flag(ctx)
        progress.status(f"deno publish {name}@{ctx.version}")
        with contextlib.ExitStack() as stack:
            relay = stack.enter_context(TokenRelay(jsr_url(ctx), token)) if token else None
            env["JSR_URL"] = relay.url if relay else jsr_url(ctx)
            if relay is not None:
                argv += ["--token", relay.one_time]

            def on_line(line: str) -> None:
                progress.log(relay.rewrite(line) if relay else line)
                if line.startswith("Publishing"):
                    progress.status(f"JSR is processing {name}@{ctx.version}")

            result = proc.run(
                argv, cwd=package_dir(ctx), env=env, timeout=TIMEOUT_S, on_line=on_line
            )
            if relay is not None:
                result = dataclasses.replace(
                    result, stdout=relay.rewrite(result.stdout), stderr=relay.rewrite(result.stderr)
                )
        if result.ok:
            after = self._settle(ctx, name, progress, SETTLE_S)
            if after.state is ProbeState.ALREADY_DONE:
                return dict(after.evidence)
            if after.state is ProbeState.CONFLICT:
                raise PermanentError(after.why or "conflict", hint=after.hint)
            raise OutcomeUnknown(
                f"deno reported {name}@{ctx.version} published, but JSR does not list it",
                why=relevant_lines(result.output),
                hint="shipit checks JSR again before retrying",
            )
        return self._failed(ctx, name, result, progress)

    @staticmethod
    def _argv(ctx: Context, provenance: bool) -> list[str]:
        """deno's command line without ``--token`` (the relay's one-time value is added
        while the relay runs)."""
        deno = proc.require("deno", hint=DENO_HINT, env=ctx.env)
        argv = [deno, "publish"]
        if not provenance:
            argv.append("--no-provenance")
        return argv

    @staticmethod
    def _dirty_flag(ctx: Context) -> list[str]:
        """``--allow-dirty`` only when every uncommitted file is one shipit wrote."""
        dirty = dirty_files(package_dir(ctx))
        if not dirty:
            return []
        shipit_dir = str((ctx.root / ".shipit").resolve())
        owned = own_files(ctx)
        foreign = [p for p in dirty if p not in owned and not p.startswith(shipit_dir + "/")]
        if foreign:
            shown = [
                str(Path(p).relative_to(ctx.root)) if p.startswith(str(ctx.root)) else p
                for p in foreign
            ]
            raise PermanentError(
                "the JSR package directory has uncommitted changes",
                why="deno publish refuses them: " + ", ".join(shown[:10]),
                hint="commit or remove these files (`git status`), then `shipit resume`",
            )
        return ["--allow-dirty"]

    def _settle(self, ctx: Context, name: str, progress: Progress, limit: float) -> Probe:
        """Probe until JSR lists the version or ``limit`` seconds pass (a visible wait)."""
        start = time.monotonic()
        while True:
            try:
                probe = judge(ctx, name)
            except TransientError:
                probe = Probe.todo("JSR did not answer")
            waited = time.monotonic() - start
            if probe.state is not ProbeState.TODO or waited >= limit:
                return probe
            progress.status(
                f"waiting for JSR to finish processing {name}@{ctx.version} ({waited:.0f}s)"
            )
            time.sleep(min(1.0, max(0.0, limit - waited)))

    def _failed(self, ctx: Context, name: str, result: proc.Result, progress: Progress) -> Evidence:
        out = result.output
        lines = relevant_lines(out)
        what = f"deno could not publish {name}@{ctx.version} to {jsr_url(ctx)}"
        if result.timed_out:
            raise OutcomeUnknown(what, why=f"deno publish timed out after {TIMEOUT_S:.0f}s")
        if MISSING_PACKAGE in out:
            link = re.search(r"(https?://\S+/new\?\S+)", out)
            jsr = registry(ctx)
            raise PermanentError(
                f"the JSR package {name} does not exist yet",
                why=lines,
                hint=f"create it at {link.group(1) if link else jsr.new_package_url(name)} "
                f"(or with {jsr.create_package_hint(name)}), then `shipit resume`",
            )
        if DIRTY in out:
            raise PermanentError(
                "deno refused to publish from a directory with uncommitted changes",
                why=lines,
                hint="commit or remove them (`git status`), then `shipit resume`",
            )
        if NO_AUTH in out:
            raise PermanentError(f"no JSR token to publish {name}", why=lines, hint=TOKEN_HINT)
        if SET_VERSION_IN_WORKSPACE in out:
            raise PermanentError(
                f"deno refuses --set-version for {package_dir(ctx)}: it is a workspace root",
                why=lines,
                hint="point [jsr] directory at the member package to release (deno accepts "
                "--set-version there), or state the version in its deno.json",
            )
        dependency = _dependency_failure(out)
        if dependency is not None:
            self._dependency_failed(ctx, name, dependency, lines)
        caused = _caused_by(out)
        code_m = re.search(r"\((\w+)\)\s*$", caused)
        code = code_m.group(1) if code_m else None
        if code == "invalidOidcToken":
            raise OidcTokenInvalid(
                "JSR rejected the job's ID token as invalid", why=lines, hint=OIDC_HINT
            )
        if code == "actorNotAuthorized" and _auth(ctx).oidc:
            raise OidcNotTrusted(
                f"JSR does not let this job publish {name}: the package is not linked to the "
                "job's repository",
                why=lines,
                hint=f"link it at {jsr_url(ctx)}{name}/settings, then {OIDC_HINT}",
            )
        if code in ("invalidBearerToken", "missingAuthentication"):
            raise PermanentError(
                f"JSR rejected the token for {jsr_url(ctx)}: {code}", why=lines, hint=TOKEN_HINT
            )
        if code is not None and code in _PERMANENT_CODES:
            raise PermanentError(
                f"{what}: {_PERMANENT_CODES[code]} ({code})",
                why=lines,
                hint="fix what JSR names above, then `shipit resume`",
            )
        status_m = re.match(r"(\d{3}) ", caused)
        status = int(status_m.group(1)) if status_m else None
        if status in (408, 429):
            raise TransientError(what, why=lines, hint="JSR is busy; shipit retries")
        if (status is not None and status >= 500) or code == "internalServerError":
            return self._maybe_published(ctx, name, what, lines, progress, limit=0.0)
        if re.search(r"Connection refused|dns error|failed to lookup", caused, re.I):
            raise TransientError(what, why=lines, hint="check JSR_URL and the network")
        if re.search(
            r"error sending request|connection closed|connection reset|timed out|"
            r"broken pipe|unexpected EOF|IncompleteMessage",
            caused,
            re.I,
        ):
            return self._maybe_published(ctx, name, what, lines, progress, limit=SETTLE_S / 3)
        if status is not None and 400 <= status < 500:
            raise PermanentError(what, why=lines, hint="fix what JSR names above, then resume")
        raise PermanentError(what, why=lines, hint="fix what deno names above, then resume")

    def _dependency_failed(
        self, ctx: Context, name: str, dependency: tuple[str, str, bool], lines: str
    ) -> None:
        """deno stopped at a dependency it could not load: nothing was uploaded."""
        kind, dep, network = dependency
        where = jsr_url(ctx) if kind == "jsr" else ctx.settings.npm_registry
        what = f"deno could not load the {kind} dependency {dep} of {name} from {where}"
        if network:
            raise TransientError(what, why=lines, hint="check the network; shipit retries")
        rehearsal = ctx.env.get("SHIPIT_REHEARSAL") == "1"
        raise PermanentError(
            what,
            why=lines,
            hint=(
                f"the sandbox reads {kind} packages it does not hold from its upstream: set "
                f"[sandbox] {kind}-upstream to a registry that has {dep}"
                if rehearsal
                else f"check the name and version of {dep} in the import map (deno.json "
                f'"imports"), then `shipit resume`'
            ),
        )

    def _maybe_published(
        self, ctx: Context, name: str, what: str, lines: str, progress: Progress, *, limit: float
    ) -> Evidence:
        """The upload may have reached JSR: wait up to ``limit`` seconds for it to show up
        (a lost connection usually means JSR is still processing), else say we do not know."""
        probe = self._settle(ctx, name, progress, limit)
        if probe.state is ProbeState.ALREADY_DONE:
            progress.log(f"JSR lists {name}@{ctx.version} after all")
            return dict(probe.evidence)
        if probe.state is ProbeState.CONFLICT:
            raise PermanentError(probe.why or what, hint=probe.hint)
        raise OutcomeUnknown(what, why=lines, hint="shipit checks JSR again before retrying")

    def undo(self, ctx: Context) -> Undo:
        name = package_name(ctx)
        jsr = registry(ctx)
        published = jsr.read(name, ctx.version)
        manage = jsr.versions_page(name)
        if not published.exists:
            return Undo.nothing(f"{name}@{ctx.version} is not on {jsr.url}")
        if published.yanked:
            return Undo.undone(f"{name}@{ctx.version} is already yanked")
        if differing_files(ctx, name, package_dir(ctx), published.files or {}):
            return Undo.irreversible(
                f"JSR holds {name}@{ctx.version} with content shipit did not publish; left alone",
                hint=f"look at it on {manage}",
            )
        hint = f"yank it on {manage} (scope admins only); JSR versions cannot be deleted"
        if not jsr.token:
            return Undo.irreversible(f"no JSR_TOKEN to yank {name}@{ctx.version}", hint=hint)
        try:
            jsr.yank(name, ctx.version)
        except RegistryError as exc:
            if exc.status in (401, 403):
                return Undo.irreversible(
                    f"JSR refused to yank {name}@{ctx.version} with this token "
                    f"({exc.status} {error_code(exc)})".replace(" )", ")"),
                    hint=hint,
                )
            raise
        return Undo.undone(f"yanked {name}@{ctx.version} on {jsr.url}")


# deno's own words (cli/tools/registry/mod.rs, deno 2.9), matched exactly
MISSING_PACKAGE = "Following packages don't exist, follow the links and create them:"
DIRTY = "Aborting due to uncommitted changes"
NO_AUTH = "No means to authenticate"
SET_VERSION_IN_WORKSPACE = "Cannot use --set-version when publishing a workspace"
_JSR_DEPENDENCY = re.compile(r"^error: JSR package not found: (?P<name>\S+)", re.M)
_NPM_DEPENDENCY = re.compile(
    r"^error: (?:npm package '(?P<missing>[^']+)' does not exist|"
    r"Failed loading (?P<url>\S+) for package \"(?P<name>[^\"]+)\")",
    re.M,
)
_NETWORK = re.compile(
    r"Connection refused|dns error|failed to lookup|timed out|connection reset", re.I
)


def _dependency_failure(output: str) -> tuple[str, str, bool] | None:
    """(registry kind, dependency, network failure?) when deno could not load a dependency
    of the package before uploading anything, else None."""
    m = _JSR_DEPENDENCY.search(output)
    if m:
        return "jsr", m.group("name"), False
    m = _NPM_DEPENDENCY.search(output)
    if m:
        return "npm", m.group("missing") or m.group("name"), bool(_NETWORK.search(output))
    return None


def _caused_by(output: str) -> str:
    """The first line after deno's ``Caused by:`` (without a ``0:`` prefix)."""
    m = re.search(r"Caused by:\s*\n\s*(?:0:\s*)?(.+)", output)
    return m.group(1).strip() if m else ""


publish_steps = one_step_per_target("jsr", JsrPublish)
