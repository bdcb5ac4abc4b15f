"""Configuration: pydantic models of ``shipit.toml`` / ``[tool.shipit]``, loading and schema.

Every field has a default, so a project without configuration works from detection alone.
Keys are kebab-case in TOML (``min-coverage``); unknown keys are errors with a "did you mean"
suggestion, and every error names the file, the key path and, where it can, the line.
Environment variables of the ecosystems (``NPM_CONFIG_REGISTRY``, ``JSR_URL``, ...) are read
by ``Settings.from_env`` (``shipit.settings``, importable without pydantic; re-exported here);
tokens are never stored in these models.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from shipit.errors import ConfigError
from shipit.settings import Settings as Settings


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Section(BaseModel):
    """Base of every config table: kebab-case keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=_kebab,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


class VersionFile(Section):
    """An extra file that carries the version, found by a regular expression."""

    file: str = Field(description="Path relative to the project root, e.g. src/version.ts")
    pattern: str = Field(
        default=r"""(?P<version>\d+\.\d+\.\d+(?:[-+.]?[0-9A-Za-z.+-]*)?)""",
        description="Regex with a named group `version` (first match is used).",
    )


class ProjectConfig(Section):
    """Where the version lives, beyond what detection finds."""

    version_source: str | None = Field(
        default=None,
        description="The canonical version file for `shipit version sync` "
        "(default: deno.json, then jsr.json, package.json, pyproject.toml).",
    )
    version_files: list[VersionFile] = Field(default_factory=list)
    python_version_file: str | None = Field(
        default=None,
        description='File holding `__version__ = "..."` for a dynamic PEP 621 version.',
    )
    name: str | None = Field(default=None, description="Display name (default: detected).")


class TemplateError(ValueError):
    """A template key names an unknown placeholder; ``hint`` says what it takes."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


_EXAMPLE_VERSION = "1.2.3-rc.1"
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def _placeholders(template: str, key: str, example: str) -> list[str]:
    """The placeholder names of ``template`` ({version} -> "version"); TemplateError when it
    is not a template at all (an unmatched brace)."""
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise TemplateError(
            f"{template!r} is not a valid template ({exc})",
            hint=f"write placeholders as {{name}} and a literal brace as {{{{ or }}}}, e.g. "
            f'{key} = "{example}"',
        ) from None


def check_template(template: str, key: str, allowed: tuple[str, ...], example: str) -> None:
    """Refuse a template naming a placeholder outside ``allowed`` (``{ver}``, ``{}``)."""
    unknown = [f for f in _placeholders(template, key, example) if f not in allowed]
    if unknown:
        shown = ", ".join("{" + f + "}" for f in unknown)
        known = ", ".join("{" + a + "}" for a in allowed)
        raise TemplateError(
            f"unknown placeholder {shown} (this key knows {known})",
            hint=f'use only {known}, e.g. {key} = "{example}"',
        )


def ref_problem(name: str) -> str | None:
    """Why git would refuse ``name`` as a tag (git check-ref-format's rules), or None."""
    if not name:
        return "it is empty"
    found = _REF_FORBIDDEN.search(name)
    if found:
        return f"it contains {found.group()!r} (no spaces, ~ ^ : ? * [ or backslash)"
    if ".." in name or "@{" in name or "//" in name:
        return "it contains '..', '@{' or '//'"
    if name == "@" or name.endswith(("/", ".")) or name.startswith("/"):
        return "it is '@', or starts with '/' or ends with '/' or '.'"
    if any(part.startswith(".") or part.endswith(".lock") for part in name.split("/")):
        return "a part of it starts with '.' or ends with '.lock'"
    return None


class ReleaseConfig(Section):
    branch: str | None = Field(
        default=None, description="Release branch (default: `main` or the remote's default)."
    )
    remote: str = "origin"
    tag_format: str = Field(default="v{version}", description="Tag name template.")
    commit_message: str = Field(
        default="chore(release): {tag}", description="Message of the release commit."
    )
    tag_message: str = Field(default="Release {tag}", description="Annotated tag message.")
    sign_tags: bool = Field(default=False, description="Create signed tags (`git tag -s`).")
    changelog: str = Field(default="CHANGELOG.md", description="Changelog file for notes.")
    confirm: bool = Field(
        default=True, description="Ask before the first visible side effect (not in CI)."
    )

    @field_validator("tag_format")
    @classmethod
    def _tag_format(cls, value: str) -> str:
        fields = _placeholders(value, "tag-format", "v{version}")
        check_template(value, "tag-format", ("version",), "v{version}")
        if fields.count("version") != 1:
            raise TemplateError(
                "a tag format needs {version} exactly once"
                + (" (without it every release would get the same tag)" if not fields else ""),
                hint='e.g. tag-format = "v{version}" (or "{version}", "mytool-v{version}")',
            )
        problem = ref_problem(value.format(version=_EXAMPLE_VERSION))
        if problem is not None:
            raise TemplateError(
                f"git cannot make a tag name from it: {problem}",
                hint='e.g. tag-format = "v{version}"',
            )
        return value

    @field_validator("commit_message", "tag_message")
    @classmethod
    def _messages(cls, value: str, info: ValidationInfo) -> str:
        key = _kebab(info.field_name or "tag_message")
        example = "chore(release): {tag}" if key == "commit-message" else "Release {tag}"
        check_template(value, key, ("tag", "version"), example)
        return value


class RetryConfig(Section):
    attempts: int = Field(default=5, ge=1, le=20, description="Attempts for transient failures.")
    initial_wait: float = Field(default=1.0, ge=0, description="First backoff, seconds.")
    max_wait: float = Field(default=30.0, ge=0, description="Longest single wait, seconds.")
    max_total: float = Field(default=300.0, ge=0, description="Give up after this many seconds.")


class CommandStepConfig(Section):
    """A user's own command run as a release step."""

    id: str = Field(description="Step id, e.g. `docs` (becomes `command:docs`).")
    run: str = Field(
        description="Shell command to run ({version}, {tag}, SHIPIT_VERSION and SHIPIT_TAG "
        "are the release's)."
    )
    probe: str | None = Field(default=None, description="Command whose exit 0 means: already done.")
    undo: str | None = Field(default=None, description="Command that undoes the step.")
    after: Literal["build", "verify", "tag", "push", "publish", "github"] = Field(
        default="publish", description="Phase after which the step runs."
    )
    timeout: float = 600.0


class CheckConfig(Section):
    enabled: bool = True
    command: str | None = Field(default=None, description="Override the preset command.")
    timeout: float = Field(default=300.0, gt=0)


class TestCheckConfig(CheckConfig):
    min_coverage: float | None = Field(
        default=None, ge=0, le=100, description="Fail below this line coverage (percent)."
    )
    coverage_report: str | None = Field(
        default=None,
        description="Report to read (lcov.info, coverage.json, coverage-summary.json).",
    )


class SecurityCheckConfig(CheckConfig):
    severity: Literal["low", "moderate", "medium", "high", "critical"] = "high"


class SecretsCheckConfig(CheckConfig):
    exclude: list[str] = Field(
        default_factory=list,
        description="Files never scanned for secrets (globs relative to the root, e.g. "
        "tests/fixtures/**); detect-secrets' .secrets.baseline and `pragma: allowlist secret` "
        "are honoured too.",
    )


class GitCheckConfig(CheckConfig):
    fetch_timeout: float = 15.0


class ChecksConfig(Section):
    parallel: int | None = Field(
        default=None, ge=1, description="How many heavy checks run at once (default: cores)."
    )
    git: GitCheckConfig = Field(default_factory=GitCheckConfig)
    versions: CheckConfig = Field(default_factory=CheckConfig)
    typecheck: CheckConfig = Field(default_factory=CheckConfig)
    lint: CheckConfig = Field(default_factory=CheckConfig)
    test: TestCheckConfig = Field(default_factory=TestCheckConfig)
    security: SecurityCheckConfig = Field(default_factory=SecurityCheckConfig)
    secrets: SecretsCheckConfig = Field(default_factory=SecretsCheckConfig)
    registry: CheckConfig = Field(default_factory=CheckConfig)


AuthMode = Literal["auto", "token", "oidc"]
AUTH_DESCRIPTION = (
    "How to authenticate: a token from the environment, trusted publishing (OIDC) from a "
    "GitHub Actions job with id-token: write, or auto (the token when one is set, else OIDC "
    "when the job can get an ID token)."
)


class NpmConfig(Section):
    enabled: bool | None = Field(default=None, description="None: detect from package.json.")
    directory: str = Field(default=".", description="Directory holding the package.json.")
    build_command: str | None = Field(
        default=None,
        description="Run before `npm pack` (e.g. a dnt build into npm/: "
        "`deno run -A scripts/build_npm.ts {version}`); {version}, {tag} and SHIPIT_VERSION, "
        "SHIPIT_TAG are the release's.",
    )
    registry: str | None = Field(default=None, description="Default: NPM_CONFIG_REGISTRY.")
    access: Literal["public", "restricted"] | None = None
    tag: str | None = Field(default=None, description="dist-tag (default: latest / pre-id).")
    provenance: bool = False
    auth: AuthMode = Field(default="auto", description=AUTH_DESCRIPTION)


class JsrConfig(Section):
    enabled: bool | None = Field(default=None, description="None: detect from deno.json/jsr.json.")
    directory: str = "."
    url: str | None = Field(default=None, description="Default: JSR_URL or https://jsr.io/.")
    auth: AuthMode = Field(default="auto", description=AUTH_DESCRIPTION)


class PypiConfig(Section):
    enabled: bool | None = Field(default=None, description="None: detect from [project].")
    directory: str = "."
    build_command: str | None = Field(
        default=None,
        description="Default: `python -m build --outdir {outdir}`; {outdir}, {version}, {tag} "
        "and SHIPIT_VERSION, SHIPIT_TAG are the release's.",
    )
    repository_url: str | None = Field(
        default=None, description="Upload URL (default: TWINE_REPOSITORY_URL or PyPI)."
    )
    index_url: str | None = Field(
        default=None, description="Read URL for probes (default: derived from the upload URL)."
    )
    auth: AuthMode = Field(default="auto", description=AUTH_DESCRIPTION)


class GithubConfig(Section):
    enabled: bool | None = Field(default=None, description="None: detect from origin / env.")
    repository: str | None = Field(default=None, description="owner/name (GITHUB_REPOSITORY).")
    api_url: str | None = Field(default=None, description="Default: GITHUB_API_URL.")
    api_version: str = "2022-11-28"
    generate_notes: bool = Field(
        default=True, description="Use generated notes when the changelog has no section."
    )
    prerelease: bool | None = Field(default=None, description="None: from the version.")
    replace_assets: bool = False
    upload_concurrency: int = Field(default=3, ge=1, le=16)
    max_rate_limit_wait: float = Field(
        default=900.0, description="Longest wait for a rate-limit reset, seconds."
    )
    extra_assets: list[str] = Field(
        default_factory=list,
        description="More files to attach to the release (paths relative to the root, "
        "{version} allowed, e.g. dist/pkg-{version}.tgz); SHA256SUMS covers them too.",
    )


class SigningConfig(Section):
    method: Literal["none", "minisign", "gpg"] = "none"
    key_env: str | None = Field(
        default=None,
        description="Environment variable holding the secret key (minisign) or key id (gpg).",
    )
    password_env: str | None = Field(
        default=None, description="Environment variable holding the key's passphrase."
    )
    public_key: str | None = Field(
        default=None, description="Public key file used to verify signatures."
    )


class BinariesConfig(Section):
    enabled: bool | None = Field(
        default=None, description="None: on when `targets` lists any; false turns it off."
    )
    name: str | None = Field(default=None, description="Program name (default: project name).")
    preset: Literal["custom", "deno", "go", "cargo", "zig"] = "custom"
    command: str | None = Field(
        default=None,
        description="Build command template with {target}, {output}, {version}, {tag}, {name}, "
        "{entry}, {ext}.",
    )
    entry: str | None = Field(default=None, description="Entry file for presets (main.ts, main.c).")
    flags: list[str] | None = Field(
        default=None,
        description='Extra flags for the preset\'s compiler, e.g. ["-A"] or ["--allow-net", '
        '"--allow-read"] for deno compile (default for the deno preset: the permission flags '
        "of the project's deno.json `compile` task).",
    )
    targets: list[str] = Field(default_factory=list)
    archive: Literal["none", "tar.gz", "zip"] = "none"
    name_template: str = "{name}-{version}-{target}{ext}"
    asset_names: dict[str, str] | str | None = Field(
        default=None,
        description="Asset file name per target, as a mapping "
        '({ "x86_64-unknown-linux-gnu" = "tool-linux-x64" }) or a template with {name}, '
        "{version}, {target}, {os}, {arch}, {ext} (default: name-template), so downloads keep "
        "the names an install script expects.",
    )
    smoke_command: str = Field(default="--version", description="Arguments for the smoke run.")
    timeout: float = 600.0
    signing: SigningConfig = Field(default_factory=SigningConfig)
    directory: str = Field(
        default=".", description="Directory the build command runs in (relative to the root)."
    )
    built_path: str | None = Field(
        default=None,
        description="Where the command leaves the binary when it cannot write to {output} "
        "(template relative to `directory`; cargo preset: target/{target}/release/{name}{ext}).",
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables for the build command."
    )
    parallel: int | None = Field(
        default=None, ge=1, description="How many targets build at once (default: cores)."
    )


class CiConfig(Section):
    """The GitHub Actions release workflow that `shipit ci init` writes."""

    runners: dict[str, str] = Field(
        default_factory=dict,
        description='Runner label per binary target, e.g. { "x86_64-linux-gnu" = '
        '"self-hosted" } (default: a native runner: ubuntu-24.04, ubuntu-24.04-arm, '
        "macos-15, macos-15-intel, windows-2025; ubuntu-24.04 cross-compiles the rest).",
    )
    python_version: str = Field(
        default="3.12",
        description="Python the jobs run shipit with, and the project's Python checks.",
    )
    node_version: str | None = Field(
        default=None,
        description="Node.js version of the jobs that run Node (default: the project's "
        ".nvmrc, .node-version, or package.json's volta.node, devEngines or engines.node; "
        "else 24).",
    )
    deno_version: str | None = Field(
        default=None,
        description="Deno version of the jobs that run Deno (default: the project's .dvmrc, "
        ".deno-version, .tool-versions or deno.json's engines.deno; else v2.x).",
    )
    shipit_requirement: str | None = Field(
        default=None,
        description="What the jobs install shipit from, as a pip requirement, e.g. "
        '"shipit-release @ git+https://github.com/acme/shipit@<commit>" (default: the '
        "shipit that writes the workflow: shipit-release==<its version> from PyPI, or the "
        "git commit it was installed from).",
    )
    environment: str = Field(
        default="release",
        description="GitHub environment of the publish job (protection rules, trusted "
        'publishers); "" for none.',
    )


class SandboxConfig(Section):
    """Where `shipit rehearse`'s sandbox reads the project's dependencies from."""

    npm_upstream: str | None = Field(
        default=None,
        description="Registry the sandbox's npm registry reads packages it does not hold from "
        "(default: the registry your npm uses: npm_config_registry or .npmrc, else "
        'https://registry.npmjs.org/); "" for none. Publishes stay in the sandbox.',
    )
    jsr_upstream: str | None = Field(
        default=None,
        description="JSR the sandbox's JSR reads packages it does not hold from (default: "
        'JSR_URL, else https://jsr.io/); "" for none.',
    )


NotifyEvent = Literal["started", "succeeded", "failed", "rolled-back"]


def _default_events() -> list[NotifyEvent]:
    return ["succeeded", "failed", "rolled-back"]


class NotifyConfig(Section):
    urls: list[str] = Field(
        default_factory=list,
        description="apprise URLs; `${VAR}` is replaced from the environment.",
    )
    events: list[NotifyEvent] = Field(default_factory=_default_events)
    timeout: float = 15.0


class Config(Section):
    """The whole of ``shipit.toml`` (or ``[tool.shipit]``)."""

    project: ProjectConfig = Field(default_factory=ProjectConfig)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    npm: NpmConfig = Field(default_factory=NpmConfig)
    jsr: JsrConfig = Field(default_factory=JsrConfig)
    pypi: PypiConfig = Field(default_factory=PypiConfig)
    github: GithubConfig = Field(default_factory=GithubConfig)
    binaries: BinariesConfig = Field(default_factory=BinariesConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    ci: CiConfig = Field(default_factory=CiConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    commands: list[CommandStepConfig] = Field(default_factory=list)

    def digest(self) -> str:
        """A stable hash of the effective configuration (recorded in the journal)."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LoadedConfig:
    """A configuration and where it came from (None: defaults only)."""

    config: Config
    path: Path | None


def schema() -> dict[str, Any]:
    """The JSON Schema of the configuration (by TOML key names)."""
    return Config.model_json_schema(by_alias=True)


# ---------------------------------------------------------------- loading


_HEADER = re.compile(r"^\s*\[(\[)?\s*(?P<name>[^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _norm_table(name: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in name.split("."))


def _line_of(text: str, loc: tuple[str | int, ...], table_prefix: tuple[str, ...]) -> int | None:
    """Best-effort 1-based line of a key path (``("commands", 0, "run")``) in TOML text."""
    lines = text.splitlines()
    headers: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m:
            headers.append((i, _norm_table(m.group("name"))))

    def region(start: int) -> range:
        following = [i for i, _ in headers if i > start]
        return range(start + 1, following[0] if following else len(lines))

    first = headers[0][0] if headers else len(lines)
    current = range(0, first)
    prefix = ""
    found: int | None = None
    parts = (*table_prefix, *loc)
    for n, part in enumerate(parts):
        if isinstance(part, int):
            blocks = [i for i, name in headers if name == prefix]
            if part < len(blocks):
                current = region(blocks[part])
                found = blocks[part] + 1
            continue
        key = re.compile(rf"^\s*(?P<q>[\"']?){re.escape(part)}(?P=q)\s*=")
        name = f"{prefix}.{part}" if prefix else part
        hit = next((i for i in current if key.match(lines[i])), None)
        if hit is not None:
            return hit + 1
        prefix = name
        nxt = parts[n + 1] if n + 1 < len(parts) else None
        if isinstance(nxt, int):
            continue
        block = next((i for i, h in headers if h == name), None)
        if block is not None:
            current = region(block)
            found = block + 1
        elif not any(h.startswith(name + ".") for _, h in headers):
            break
    return found


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [(f.alias or name) for name, f in model.model_fields.items()]


def _field_at(loc: tuple[str | int, ...]) -> Any:
    """The pydantic FieldInfo at ``loc`` (None when the path leaves the models)."""
    parent = _model_at(loc[:-1]) if loc else None
    if parent is None or not loc or isinstance(loc[-1], int):
        return None
    for name, f in parent.model_fields.items():
        if loc[-1] in (name, f.alias):
            return f
    return None


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = None
        for name, f in model.model_fields.items():
            if part in (name, f.alias):
                field = f
                break
        if field is None:
            return None
        nxt = _inner_model(field.annotation)
        if nxt is None:
            return None
        model = nxt
    return model


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _describe_type(ann: Any) -> str:
    """Words for the type a key takes, for hints ("true or false", "a whole number")."""
    origin = get_origin(ann)
    args = [a for a in get_args(ann) if a is not type(None)]
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a) for a in get_args(ann))
    if origin in (list, tuple):
        return "a list, e.g. [" + (_example(args[0]) if args else '"a"') + "]"
    if args and origin is not None and origin not in (list, tuple, dict):  # Optional / Union
        return " or ".join(_describe_type(a) for a in args)
    if ann is bool:
        return "true or false"
    if ann is int:
        return "a whole number"
    if ann is float:
        return "a number"
    if ann is str:
        return 'a string in quotes, e.g. "text"'
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "a table"
    return "a value of another type"


def _example(ann: Any) -> str:
    if ann is str:
        return '"a"'
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "{ ... }"
    return "..."


def _key_path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text


def _format_errors(
    exc: ValidationError, path: Path, text: str, table_prefix: tuple[str, ...]
) -> ConfigError:
    messages: list[str] = []
    hints: list[str] = []
    located = [(_line_of(text, tuple(e["loc"]), table_prefix), e) for e in exc.errors()]
    located.sort(key=lambda pair: (pair[0] is None, pair[0] or 0))  # in file order
    for line, err in located:
        loc = tuple(err["loc"])
        key_path = _key_path((*table_prefix, *loc))
        where = f"{path.name}:{line}" if line else path.name
        if err["type"] == "extra_forbidden":
            parent = _model_at(loc[:-1])
            known = _known_keys(parent) if parent else []
            guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
            msg = f"{where}: unknown key `{key_path}`"
            if guess:
                msg += f" (did you mean `{guess[0]}`?)"
                hints.append(f"rename `{loc[-1]}` to `{guess[0]}` in {path.name}")
            elif known:
                hints.append(f"valid keys here: {', '.join(known)}")
            messages.append(msg)
            continue
        got = err.get("input")
        shown = f" (got {json.dumps(got, default=str)})" if not isinstance(got, dict) else ""
        cause = (err.get("ctx") or {}).get("error")
        said = str(cause) if isinstance(cause, TemplateError) else err["msg"]
        messages.append(f"{where}: `{key_path}`: {said}{shown}")
        field = _field_at(loc)
        if isinstance(cause, TemplateError):
            hints.append(cause.hint)
        elif field is not None:
            hint = f"`{key_path}` takes {_describe_type(field.annotation)}"
            if field.description:
                hint += f" ({field.description.rstrip('.')})"
            hints.append(hint)
    hints.append("`shipit schema` lists every key")
    return ConfigError(
        f"invalid configuration in {path}",
        why="\n".join(messages),
        hint="; ".join(hints),
    )


def parse(
    data: Mapping[str, Any], *, path: Path, text: str = "", table_prefix: tuple[str, ...] = ()
) -> Config:
    """Validate TOML data strictly: TOML has real booleans and numbers, so "yes" is no bool."""
    try:
        return Config.model_validate(dict(data), strict=True)
    except ValidationError as exc:
        raise _format_errors(exc, path, text, table_prefix) from None


_TOML_POSITION = re.compile(r"\(at line (?P<line>\d+), column (?P<col>\d+)\)")


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read {path}", why=str(exc), hint=f"check that {path} is a readable text file"
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POSITION.search(str(exc))
        line = int(m.group("line")) if m else None
        where = f"{path}:{line}" if line else str(path)
        shown = ""
        if line is not None and 0 < line <= len(text.splitlines()):
            shown = f"\n  {line} | {text.splitlines()[line - 1]}"
        raise ConfigError(
            f"{where}: not valid TOML",
            why=f"{exc}{shown}",
            hint=f"fix the syntax of {path.name}"
            + (f" at line {line}" if line else "")
            + " (strings need quotes, tables look like [release])",
        ) from None


def load(root: Path, explicit: Path | None = None) -> LoadedConfig:
    """Load the project's configuration.

    ``explicit`` (``--config FILE``) wins. Otherwise ``shipit.toml`` at the root, or
    ``[tool.shipit]`` in ``pyproject.toml``; both at once is an error naming both files.
    """
    if explicit is not None:
        if not explicit.exists():
            raise ConfigError(
                f"configuration file {explicit} does not exist",
                why="--config names a file that is not there (a relative path is taken from "
                "the directory shipit was started in)",
                hint="check the path given to --config, or leave --config out to use the "
                "project's shipit.toml",
            )
        data, text = _read_toml(explicit)
        if explicit.name == "pyproject.toml":
            section = data.get("tool", {}).get("shipit", {})
            return LoadedConfig(
                parse(section, path=explicit, text=text, table_prefix=("tool", "shipit")),
                explicit,
            )
        return LoadedConfig(parse(data, path=explicit, text=text), explicit)
    shipit_toml = root / "shipit.toml"
    pyproject = root / "pyproject.toml"
    py_section: dict[str, Any] | None = None
    py_text = ""
    if pyproject.exists():
        py_data, py_text = _read_toml(pyproject)
        tool = py_data.get("tool", {})
        if isinstance(tool, dict) and "shipit" in tool:
            py_section = tool["shipit"]
    if shipit_toml.exists():
        if py_section is not None:
            raise ConfigError(
                "configuration found in two places",
                why=f"both {shipit_toml} and [tool.shipit] in {pyproject} exist",
                hint="keep one: move everything into shipit.toml and delete [tool.shipit], "
                "or the other way round",
            )
        data, text = _read_toml(shipit_toml)
        return LoadedConfig(parse(data, path=shipit_toml, text=text), shipit_toml)
    if py_section is not None:
        if not isinstance(py_section, dict):
            raise ConfigError(
                f"[tool.shipit] in {pyproject} must be a table",
                hint="write the settings under [tool.shipit] headers, e.g. [tool.shipit.release]",
            )
        return LoadedConfig(
            parse(py_section, path=pyproject, text=py_text, table_prefix=("tool", "shipit")),
            pyproject,
        )
    return LoadedConfig(Config(), None)
