"""The ``registry`` check: every enabled target's registry answers and accepts our token,
and the version is not there yet (or is there with identical content: resumable).

npm: ``GET /-/whoami`` with the bearer token. GitHub: ``GET /repos/{o}/{r}`` and
``permissions.push``. JSR: the authenticated read ``GET /api/scopes/{s}/packages/{p}``.
PyPI: the token has the ``pypi-`` shape and the index answers. Lookups run in parallel;
tokens are sent, never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import httpx

from shipit import http
from shipit.checks.base import CheckContext, CheckResult, Finding, Status, skipped
from shipit.checks.published import pypi_index_url
from shipit.checks.versions import next_patch
from shipit.project import versions as v
from shipit.project.model import Target

NAME = "registry"
TIMEOUT = 15.0

Outcome = tuple[list[Finding], list[str]]  # (problems, notes)


def _unreachable(what: str, url: str, exc: Exception, hint: str) -> Finding:
    return Finding(f"{what} at {url} does not answer ({type(exc).__name__})", hint=hint)


def _error_text(r: httpx.Response) -> str:
    try:
        data = r.json()
    except ValueError:
        return r.reason_phrase or ""
    if isinstance(data, dict):
        for key in ("message", "error", "reason"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return ""


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
    except Exception:
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


def check_npm(ctx: CheckContext, target: Target) -> Outcome:
    registry = ctx.settings.npm_registry
    token = ctx.settings.npm_token
    if not token:
        return [
            Finding(
                f"no npm token for {registry}",
                hint="export NPM_TOKEN=<token>  (create one with `npm token create` or on "
                "the registry's website)",
            )
        ], []
    try:
        with http.client(token=token, timeout=TIMEOUT) as c:
            r = c.get(registry + "-/whoami", headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        return [
            _unreachable(
                "the npm registry", registry, exc, "check NPM_CONFIG_REGISTRY and the network"
            )
        ], []
    if r.status_code in (401, 403):
        return [
            Finding(
                f"the npm registry {registry} rejected NPM_TOKEN ({r.status_code} "
                f"{_error_text(r)})".rstrip(),
                hint="create a new token (npm token create) and export NPM_TOKEN=<token>",
            )
        ], []
    if r.status_code >= 400:
        return [
            Finding(
                f"the npm registry {registry} answered {r.status_code} to whoami",
                hint="check NPM_CONFIG_REGISTRY, then shipit check --only registry",
            )
        ], []
    try:
        user = r.json().get("username") if r.content else None
    except ValueError:
        user = None
    if not user:  # verdaccio answers an unknown token as an anonymous user: 200 {}
        return [
            Finding(
                f"the npm registry {registry} did not accept NPM_TOKEN (whoami names no user)",
                hint="create a new token (npm token create) and export NPM_TOKEN=<token>",
            )
        ], []
    problems, notes = _version_state(ctx, target)
    return problems, [f"token accepted (user {user})", *notes]


def check_jsr(ctx: CheckContext, target: Target) -> Outcome:
    base = ctx.settings.jsr_url
    token = ctx.settings.jsr_token
    package = target.package or ""
    if not package.startswith("@") or "/" not in package:
        return [
            Finding(
                f"the JSR package name {package!r} is not @scope/name",
                file="deno.json",
                hint='set "name": "@scope/name" in deno.json',
            )
        ], []
    if not token:
        return [
            Finding(
                "no JSR token (JSR_TOKEN is not set)",
                hint=f"create a token at {base}account/tokens and export JSR_TOKEN=<token> "
                "(or publish from GitHub Actions with OIDC)",
            )
        ], []
    scope, name = package[1:].split("/", 1)
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    url = f"{origin}/api/scopes/{quote(scope)}/packages/{quote(name)}"
    try:
        with http.client(token=token, timeout=TIMEOUT) as c:
            r = c.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        return [_unreachable("JSR", origin, exc, "check JSR_URL and the network")], []
    if r.status_code == 401:
        return [
            Finding(
                f"JSR at {origin} rejected JSR_TOKEN ({_error_text(r)})",
                hint="create a new token on JSR (account settings, tokens) and export "
                "JSR_TOKEN=<token>",
            )
        ], []
    if r.status_code == 404:
        link = f"{base}new?scope={quote(scope)}&package={quote(name)}&from=cli"
        return [
            Finding(
                f"the JSR package {package} does not exist yet",
                hint=f"create it at {link}, then shipit check --only registry",
            )
        ], []
    if r.status_code >= 400:
        return [
            Finding(
                f"JSR answered {r.status_code} for {package}: {_error_text(r)}",
                hint="check the scope membership of the token's user",
            )
        ], []
    problems, notes = _version_state(ctx, target)
    return problems, ["token accepted", *notes]


def check_pypi(ctx: CheckContext, target: Target) -> Outcome:
    token = ctx.settings.pypi_token
    user = ctx.env.get("TWINE_USERNAME", "__token__")
    findings: list[Finding] = []
    if not token:
        findings.append(
            Finding(
                "no PyPI token (PYPI_TOKEN / TWINE_PASSWORD is not set)",
                hint="create an API token on PyPI (account settings) and export "
                "PYPI_TOKEN=pypi-...",
            )
        )
    elif user == "__token__" and not token.startswith("pypi-"):
        findings.append(
            Finding(
                "the PyPI token does not look like an API token (it must start with `pypi-`)",
                hint="copy the whole token, including the `pypi-` prefix, into PYPI_TOKEN",
            )
        )
    index = pypi_index_url(ctx.config, ctx.settings)
    try:
        with http.client(timeout=TIMEOUT) as c:
            r = c.get(index)
        if r.status_code >= 500:
            findings.append(
                Finding(
                    f"the package index {index} answered {r.status_code}",
                    hint="try again later, or check pypi.index-url",
                )
            )
    except httpx.HTTPError as exc:
        findings.append(
            _unreachable(
                "the package index",
                index,
                exc,
                "check TWINE_REPOSITORY_URL / pypi.index-url and the network",
            )
        )
    if findings:
        return findings, []
    problems, notes = _version_state(ctx, target)
    return problems, ["token present", *notes]


def check_github(ctx: CheckContext, target: Target) -> Outcome:
    repo = ctx.settings.github_repository or target.package
    api = ctx.settings.github_api_url
    token = ctx.settings.github_token
    if not repo:
        return [
            Finding(
                "the GitHub repository is unknown",
                hint="set GITHUB_REPOSITORY=owner/name or github.repository in shipit.toml",
            )
        ], []
    if not token:
        return [
            Finding(
                "no GitHub token (GITHUB_TOKEN / GH_TOKEN is not set)",
                hint="export GITHUB_TOKEN=$(gh auth token)  (needs contents: write)",
            )
        ], []
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": ctx.config.github.api_version,
    }
    try:
        with http.client(token=token, timeout=TIMEOUT, headers=headers) as c:
            r = c.get(f"{api}/repos/{repo}")
            if r.status_code == 200:
                tag = ctx.config.release.tag_format.format(version=ctx.version or "")
                rel = c.get(f"{api}/repos/{repo}/releases/tags/{quote(tag, safe='')}")
            else:
                rel = None
    except httpx.HTTPError as exc:
        return [
            _unreachable("the GitHub API", api, exc, "check GITHUB_API_URL and the network")
        ], []
    if r.status_code == 401:
        return [
            Finding(
                f"GitHub rejected GITHUB_TOKEN ({_error_text(r) or 'Bad credentials'})",
                hint="export GITHUB_TOKEN=$(gh auth token), or create a new token with "
                "contents: write",
            )
        ], []
    if r.status_code == 404:
        return [
            Finding(
                f"the repository {repo} does not exist or the token cannot see it",
                hint="check GITHUB_REPOSITORY / github.repository and the token's repository "
                "access",
            )
        ], []
    if r.status_code >= 400:
        return [
            Finding(
                f"GitHub answered {r.status_code} for {repo}: {_error_text(r)}",
                hint="try again later",
            )
        ], []
    perms = r.json().get("permissions") or {}
    if not perms.get("push"):
        return [
            Finding(
                f"the token may not push to {repo} (permissions.push is false)",
                hint="use a token with contents: write on the repository",
            )
        ], []
    notes = ["token may push"]
    if rel is not None and rel.status_code == 200:
        body = rel.json()
        return [
            Finding(
                f"a published GitHub release for {body.get('tag_name')} already exists "
                f"({body.get('html_url', '')})".replace(" ()", ""),
                hint="choose a new version: shipit version set <next version>",
            )
        ], []
    return [], notes


CHECKERS: dict[str, Callable[[CheckContext, Target], Outcome]] = {
    "npm": check_npm,
    "jsr": check_jsr,
    "pypi": check_pypi,
    "github": check_github,
}
