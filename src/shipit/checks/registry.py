"""The ``registry`` check: every enabled target's registry answers and accepts our token,
and the version is not there yet (or is there with identical content: resumable).

Through the adapters of ``shipit.registries``: npm ``whoami`` with the token; JSR's
authenticated package read (what deno asks before publishing); PyPI: the upload endpoint
takes the token (an incomplete upload that creates nothing) and the index answers; GitHub:
the repository's ``permissions.push`` and no published release for the tag. Lookups run in
parallel; tokens are sent, never shown.
Without a ``PublishedLookup`` (``ctx.published`` None: the release's invariant, whose probes
compare content before anything is visible) it asks only whether each token works.

A registry that authenticates by trusted publishing (``shipit.oidc.auth_of``: ``auth = "oidc"``,
or ``auto`` in a GitHub Actions job with ``id-token: write`` and no token) is checked by doing
its exchange without publishing (the adapters' ``preflight_oidc``): npm's version, the job's
ID token, ``package.json`` ``repository`` and npm's token exchange; PyPI's mint-token; JSR's
link to the job's repository. Minted tokens are thrown away.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import tarfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from shipit import git, oidc
from shipit.checks.base import CheckContext, CheckResult, Finding, Status, skipped
from shipit.checks.versions import next_patch
from shipit.errors import (
    OidcError,
    PermanentError,
    RegistryError,
    ShipitError,
    ToolMissingError,
    ToolTooOld,
    TransientError,
    VersionError,
)
from shipit.project import tags
from shipit.project import versions as v
from shipit.project.model import Target
from shipit.project.republish import NEVER_AGAIN, new_version_hint
from shipit.registries.github import GitHub
from shipit.registries.jsr import Jsr
from shipit.registries.npm import Npm
from shipit.registries.pypi import PyPI, upload_auth

NAME = "registry"
TIMEOUT = 15.0

Outcome = tuple[list[Finding], list[str]]  # (problems, notes)


def _unreachable(what: str, url: str, exc: ShipitError, hint: str) -> Finding:
    """A registry that did not answer (or answered 5xx) as a finding."""
    status = exc.status if isinstance(exc, TransientError) else None
    if status is not None:
        return Finding(f"{what} at {url} answered {status}", hint=hint)
    cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else "no answer"
    return Finding(f"{what} at {url} does not answer ({cause})", hint=hint)


class RegistryCheck:
    name = NAME
    heavy = False

    def run(self, ctx: CheckContext) -> CheckResult:
        targets = [t for t in ctx.project.enabled_targets if t.name in CHECKERS]
        if not targets:
            return skipped(NAME, "no registry target is enabled")
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            futures = [(t, pool.submit(CHECKERS[t.name], ctx, t)) for t in targets]
            outcomes = [(t, f.result()) for t, f in futures]
        findings: list[Finding] = []
        notes: list[str] = []
        for target, (problems, extra) in outcomes:
            findings.extend(problems)
            notes.extend(f"{target.name}: {n}" for n in extra)
        if findings:
            return CheckResult(NAME, Status.FAILED, findings[0].message, tuple(findings))
        return CheckResult(NAME, Status.PASSED, "; ".join(notes))


def _version_state(ctx: CheckContext, target: Target) -> Outcome:
    version = ctx.version
    if not version or not target.package or ctx.published is None:
        return [], []
    try:
        version = v.to_semver(version)
    except VersionError:
        return [], []
    st = ctx.published.state(target.name, target.package, version, target.directory or ctx.root)
    if st.error:
        return [
            Finding(
                f"cannot tell whether {target.name} already has {target.package} {st.version}: "
                f"{st.error}",
                hint="check the registry URL and the network, then shipit check --only registry",
            )
        ], []
    if st.withdrawn:
        return [
            Finding(
                f"{target.package} {st.version} is yanked on {target.name} (rolled back): "
                f"{NEVER_AGAIN}",
                hint=new_version_hint(version),
            )
        ], []
    if st.resumable:
        return [], [
            f"{target.package} {st.version} is already published with identical content: "
            "the release can be resumed (shipit resume)"
        ]
    if st.published:
        other = " with different content" if st.identical is False else ""
        return [
            Finding(
                f"{target.package} {st.version} is already published on {target.name}{other}",
                hint=f"choose a new version: shipit version set {next_patch(version)}",
            )
        ], []
    return [], [f"{target.package} {st.version} not published yet"]


def _oidc_finding(registry: str, exc: ShipitError) -> Finding:
    """A trusted-publishing failure as a finding that names the registry and the cause."""
    label = oidc.LABELS[registry]
    message = exc.what if label in exc.what else f"{label}: {exc.what}"
    if exc.why:
        message += f" ({exc.why})"
    return Finding(message, hint=exc.hint)


def check_oidc(
    ctx: CheckContext,
    target: Target,
    auth: oidc.Auth,
    preflight: Callable[[], oidc.IdToken],
    where: str,
) -> Outcome:
    """Trusted publishing for ``target``: the exchange done without publishing."""
    if oidc.wanted_but_unavailable(auth, ctx.env):
        return [_oidc_finding(target.name, oidc.unavailable(auth, ctx.env))], []
    try:
        id_token = preflight()
    except (OidcError, ToolTooOld, ToolMissingError) as exc:
        return [_oidc_finding(target.name, exc)], []
    except TransientError as exc:
        return [_unreachable(oidc.LABELS[target.name], where, exc, "check the network")], []
    except RegistryError as exc:
        return [
            Finding(
                f"{oidc.LABELS[target.name]} answered {exc.status}: {exc.message}",
                hint="check the registry URL, then shipit check --only registry",
            )
        ], []
    problems, notes = _version_state(ctx, target)
    return problems, [f"trusted publishing for {id_token.identity()}", *notes]


def _npm_manifest(ctx: CheckContext, target: Target) -> dict[str, Any]:
    path = (target.directory or ctx.root) / "package.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check_npm(ctx: CheckContext, target: Target) -> Outcome:
    registry = ctx.settings.npm_registry
    if not target.package and not ctx.config.npm.build_command:
        # switched on in the config, but npm could not publish it (a build command writes its
        # package.json, name included, before npm:pack: a dnt build into npm/)
        return [
            Finding(
                "package.json has no name: npm cannot publish it",
                file="package.json",
                hint='add "name" to package.json (or set [npm] enabled = false), then '
                "shipit check --only registry",
            )
        ], []
    auth = oidc.auth_of("npm", ctx.config, ctx.settings, ctx.env)
    if auth.oidc or oidc.wanted_but_unavailable(auth, ctx.env):
        npm = Npm(registry, timeout=TIMEOUT)  # anonymous reads: trusted publishing has no token
        return check_oidc(
            ctx,
            target,
            auth,
            lambda: npm.preflight_oidc(target.package or "", _npm_manifest(ctx, target), ctx.env),
            registry,
        )
    token = ctx.settings.npm_token
    new_token = "create a new token (npm token create) and export NPM_TOKEN=<token>"
    if not token:
        return [
            Finding(
                f"no npm token for {registry}",
                hint="export NPM_TOKEN=<token>  (create one with `npm token create` or on "
                "the registry's website)",
            )
        ], []
    try:
        user = Npm.from_settings(ctx.settings, timeout=TIMEOUT).whoami()
    except TransientError as exc:
        return [
            _unreachable(
                "the npm registry", registry, exc, "check NPM_CONFIG_REGISTRY and the network"
            )
        ], []
    except RegistryError as exc:
        if exc.status in (401, 403):
            return [
                Finding(
                    f"the npm registry {registry} rejected NPM_TOKEN ({exc.status} "
                    f"{exc.message})".replace(" )", ")"),
                    hint=new_token,
                )
            ], []
        return [
            Finding(
                f"the npm registry {registry} answered {exc.status} to whoami",
                hint="check NPM_CONFIG_REGISTRY, then shipit check --only registry",
            )
        ], []
    if not user:  # verdaccio answers an unknown token as an anonymous user: 200 {}
        return [
            Finding(
                f"the npm registry {registry} did not accept NPM_TOKEN (whoami names no user)",
                hint=new_token,
            )
        ], []
    problems, notes = _version_state(ctx, target)
    return problems, [f"token accepted (user {user})", *notes]


def check_jsr(ctx: CheckContext, target: Target) -> Outcome:
    jsr = Jsr.from_settings(ctx.settings, timeout=TIMEOUT)
    package = target.package or ""
    if not package.startswith("@") or "/" not in package:
        return [
            Finding(
                f"the JSR package name {package!r} is not @scope/name",
                file="deno.json",
                hint='set "name": "@scope/name" in deno.json',
            )
        ], []
    auth = oidc.auth_of("jsr", ctx.config, ctx.settings, ctx.env)
    if auth.oidc or oidc.wanted_but_unavailable(auth, ctx.env):
        return check_oidc(
            ctx, target, auth, lambda: jsr.preflight_oidc(package, ctx.env), jsr.origin
        )
    if not jsr.token:
        return [
            Finding(
                "no JSR token (JSR_TOKEN is not set)",
                hint=f"create a token at {jsr.url}account/tokens and export JSR_TOKEN=<token> "
                "(or publish from GitHub Actions with OIDC)",
            )
        ], []
    try:
        exists = jsr.package_exists(package)
    except TransientError as exc:
        return [_unreachable("JSR", jsr.origin, exc, "check JSR_URL and the network")], []
    except RegistryError as exc:
        if exc.status == 401:
            return [
                Finding(
                    f"JSR at {jsr.origin} rejected JSR_TOKEN ({exc.message})",
                    hint="create a new token on JSR (account settings, tokens) and export "
                    "JSR_TOKEN=<token>",
                )
            ], []
        return [
            Finding(
                f"JSR answered {exc.status} for {package}: {exc.message}",
                hint="check the scope membership of the token's user",
            )
        ], []
    except PermanentError as exc:  # not a JSR name
        return [Finding(exc.what, file="deno.json", hint=exc.hint)], []
    if not exists:
        return [
            Finding(
                f"the JSR package {package} does not exist yet",
                hint=f"create it at {jsr.new_package_url(package)}, "
                "then shipit check --only registry",
            )
        ], []
    problems, notes = _version_state(ctx, target)
    return problems, ["token accepted", *notes]


JSR_LIMIT = 20 * 1024 * 1024  # JSR refuses a larger gzipped tarball: tarballSizeLimitExceeded


class _Counter(io.RawIOBase):
    """A sink that only counts what is written."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(data)
        self.size += n
        return n


def _gzipped_tar_size(files: list[tuple[str, Path]]) -> int:
    """How large the gzipped tarball of ``files`` is, as deno uploads it (streamed)."""
    counter = _Counter()
    with (
        gzip.GzipFile(fileobj=counter, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        for name, path in files:
            info = tar.gettarinfo(str(path), arcname=name)
            with path.open("rb") as fh:
                tar.addfile(info, fh)
    return counter.size


def check_jsr_size(ctx: CheckContext, target: Target) -> Outcome:
    """The package fits JSR's 20 MiB limit: caught here, not by a refused upload after npm
    and PyPI published. Only a package whose files add up to more than the limit is packed
    and measured."""
    directory = target.directory or ctx.root
    listed = git.list_files(directory, ctx.env) or []
    rough = 0
    for name in listed:
        with contextlib.suppress(OSError):
            rough += (directory / name).stat().st_size + 512
    if rough <= JSR_LIMIT or ctx.publish_sets is None:
        return [], []
    chosen = ctx.publish_sets.get("jsr", directory)
    files = [(name, path) for name, path in chosen.files if path is not None and path.is_file()]
    size = _gzipped_tar_size(files)
    if size <= JSR_LIMIT:
        return [], []
    biggest = sorted(files, key=lambda f: f[1].stat().st_size, reverse=True)[:3]
    shown = ", ".join(f"{name} ({path.stat().st_size / 2**20:.1f} MiB)" for name, path in biggest)
    return [
        Finding(
            f"the JSR package is {size / 2**20:.1f} MiB gzipped, over JSR's 20 MiB limit "
            f"(largest: {shown})",
            file="deno.json",
            hint="leave large files out with publish.exclude in deno.json, then "
            "shipit check --only registry",
        )
    ], []


def check_jsr_all(ctx: CheckContext, target: Target) -> Outcome:
    problems, notes = check_jsr(ctx, target)
    too_large, _ = check_jsr_size(ctx, target)
    return problems + too_large, notes


def check_pypi(ctx: CheckContext, target: Target) -> Outcome:
    """A token is asked of the upload endpoint itself (``PyPI.verify_upload_auth``: an
    incomplete upload that authenticates but creates nothing), so a wrong but well-formed
    token fails here, before anything is visible, not at upload time after npm and JSR."""
    auth = oidc.auth_of("pypi", ctx.config, ctx.settings, ctx.env)
    if auth.oidc or oidc.wanted_but_unavailable(auth, ctx.env):
        pypi = PyPI.from_config(ctx.config, ctx.settings, timeout=TIMEOUT)

        def preflight() -> oidc.IdToken:
            id_token = oidc.fetch(pypi.oidc_audience(), ctx.env)
            pypi.mint_token(id_token)  # minted and thrown away
            return id_token

        return check_oidc(ctx, target, auth, preflight, pypi.oidc_base)
    creds = upload_auth(ctx.settings, ctx.env)
    new_token = (
        "create an API token on PyPI (account settings, API tokens) and export "
        "PYPI_TOKEN=pypi-..., then shipit check --only registry"
    )
    if not creds.password:
        return [
            Finding(
                f"no PyPI token for {creds.url} (PYPI_TOKEN / TWINE_PASSWORD is not set)",
                hint=new_token,
            )
        ], []
    if creds.username == "__token__" and not creds.password.startswith("pypi-"):
        return [
            Finding(
                "the PyPI token does not look like an API token (it must start with `pypi-`)",
                hint="copy the whole token, including the `pypi-` prefix, into PYPI_TOKEN",
            )
        ], []
    pypi = PyPI.from_config(ctx.config, ctx.settings, timeout=TIMEOUT)
    try:
        answer = pypi.verify_upload_auth(creds.username, creds.password)
        pypi.ping(target.package or "pip")
    except TransientError as exc:
        return [
            _unreachable(
                "the package index",
                creds.url,
                exc,
                "check TWINE_REPOSITORY_URL / pypi.index-url and the network",
            )
        ], []
    except RegistryError as exc:
        return [
            Finding(
                f"the upload URL {creds.url} answered {exc.status} instead of taking uploads"
                + (f" ({exc.message})" if exc.message else ""),
                hint="check TWINE_REPOSITORY_URL / pypi.repository-url (PyPI's is "
                "https://upload.pypi.org/legacy/), then shipit check --only registry",
            )
        ], []
    if not answer.accepted:
        return [
            Finding(
                f"the package index at {creds.url} rejected {creds.source} (user "
                f"{creds.username}): {answer.status} {answer.message}".rstrip(": "),
                hint=new_token,
            )
        ], []
    problems, notes = _version_state(ctx, target)
    return problems, [f"token accepted by {creds.url}", *notes]


def check_github(ctx: CheckContext, target: Target) -> Outcome:
    repo = ctx.settings.github_repository or target.package
    api = ctx.settings.github_api_url
    if not repo:
        return [
            Finding(
                "the GitHub repository is unknown",
                hint="set GITHUB_REPOSITORY=owner/name or github.repository in shipit.toml",
            )
        ], []
    if not ctx.settings.github_token:
        return [
            Finding(
                "no GitHub token (GITHUB_TOKEN / GH_TOKEN is not set)",
                hint="export GITHUB_TOKEN=$(gh auth token)  (needs contents: write)",
            )
        ], []
    tag = tags.release_tag(ctx.config, ctx.project.tags, ctx.version or "")
    try:
        with GitHub.from_settings(
            ctx.config, ctx.settings, repository=repo, timeout=TIMEOUT, max_rate_limit_wait=0
        ) as gh:
            permissions = gh.repo().get("permissions") or {}
            asks = permissions.get("push") and ctx.published is not None  # else: token only
            published = gh.release_for_tag(tag) if asks else None
    except TransientError as exc:
        return [
            _unreachable("the GitHub API", api, exc, "check GITHUB_API_URL and the network")
        ], []
    except RegistryError as exc:
        if exc.status == 401:
            return [
                Finding(
                    f"GitHub rejected GITHUB_TOKEN ({exc.message or 'Bad credentials'})",
                    hint="export GITHUB_TOKEN=$(gh auth token), or create a new token with "
                    "contents: write",
                )
            ], []
        if exc.status == 404:
            return [
                Finding(
                    f"the repository {repo} does not exist or the token cannot see it",
                    hint="check GITHUB_REPOSITORY / github.repository and the token's "
                    "repository access",
                )
            ], []
        return [
            Finding(
                f"GitHub answered {exc.status} for {repo}: {exc.message}", hint="try again later"
            )
        ], []
    except PermanentError as exc:  # not owner/name, or the rate limit is used up
        return [Finding(exc.what, hint=exc.hint)], []
    if not permissions.get("push"):
        return [
            Finding(
                f"the token may not push to {repo} (permissions.push is false)",
                hint="use a token with contents: write on the repository",
            )
        ], []
    if published is not None:
        tag_name = str(published.get("tag_name", ""))
        if _tag_at_head(ctx, tag_name):  # this very release, run again (CI re-run, resume)
            return [], [
                "token may push",
                f"the GitHub release {tag_name} is published and its tag is at HEAD: "
                "resumable (its assets are compared before anything is uploaded)",
            ]
        return [
            Finding(
                f"a published GitHub release for {published.get('tag_name')} already exists "
                f"({published.get('html_url', '')})".replace(" ()", ""),
                hint=new_version_hint(ctx.version),
            )
        ], []
    return [], ["token may push"]


def _tag_at_head(ctx: CheckContext, tag: str) -> bool:
    """The release tag exists here and points at HEAD: the release being checked made it."""
    if not tag:
        return False
    head = git.head_commit(ctx.root)
    return head is not None and git.local_tag_commit(ctx.root, tag) == head


CHECKERS: dict[str, Callable[[CheckContext, Target], Outcome]] = {
    "npm": check_npm,
    "jsr": check_jsr_all,
    "pypi": check_pypi,
    "github": check_github,
}
