"""`shipit rehearse`: the real release of this project, against a throw-away sandbox.

A fresh sandbox (verdaccio, pypiserver, the JSR and GitHub test servers, a bare git remote;
``shipit.sandbox.manager``) and a throw-away clone of the repository at HEAD, whose
``origin`` is the sandbox's remote. Dependencies resolve as they do for the project: the
sandbox's npm and JSR registries read packages they do not hold from the registries the
user's tools use (``[sandbox] npm-upstream`` / ``jsr-upstream``; publishes stay in the
sandbox), and the clone gets the project's installed ``node_modules`` (a link), or installs
them from the lockfile (``npm ci``) when the project has none installed. The real
``shipit release --yes`` runs in the clone, from the checks to the notification, in an
environment without any real credential (notifications go to a local receiver, never to the
configured services). Then the report: what was published where (asked of the sandbox's
registries), each step, the notification a person would have received, and the dashboard;
then everything is torn down. When the release failed, its journal and logs are copied to
``.shipit/rehearsal/`` in the project first, and the report names that copy and commands
that work once the clone is gone (``--keep`` keeps both, and says how to stop the sandbox).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import tomlkit
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shipit import git, live_versions, proc
from shipit.commands.options import SkipChecksOpt, SkipOpt, VersionOpt
from shipit.config import Config, Settings, load
from shipit.engine.states import ReleaseState
from shipit.errors import ExitCode, GitError, RehearsalError, ShipitError
from shipit.npmrc import npm_config
from shipit.redact import redact, register
from shipit.sandbox.isolation import isolated_env
from shipit.sandbox.manager import DEFAULT_REPO, Sandbox
from shipit.workspace import protect, release_dir

log = logging.getLogger("shipit.rehearse")


@dataclass(frozen=True)
class Published:
    where: str  # npm, jsr, pypi, github
    package: str
    version: str | None
    live: bool | None
    url: str | None
    detail: str = ""


@dataclass
class Rehearsal:
    ok: bool
    exit_code: int
    version: str | None
    tag: str | None
    state: str | None
    commit: str | None
    duration_s: float
    published: list[Published] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, str]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    output_tail: list[str] = field(default_factory=list)
    kept: str | None = None
    saved: str | None = None  # the copy of the release's journal and logs in the project
    stop: str | None = None  # the command that stops a kept sandbox
    upstreams: dict[str, str] = field(default_factory=dict)  # npm/jsr: where reads go

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- notification receiver


class _Receiver:
    """A local webhook standing in for the configured notification services."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                try:
                    data = json.loads(body or b"{}")
                except ValueError:
                    data = {}
                outer.received.append(
                    {
                        "title": str(data.get("title", "")),
                        "message": str(data.get("message", "")),
                        "type": str(data.get("type", "")),
                    }
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/rehearsal"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)

    def __enter__(self) -> _Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- the clone


def make_clone(root: Path, remote: Path, work: Path) -> tuple[str, str]:
    """Clone ``root`` at HEAD into ``work`` and make ``remote`` its origin; return (branch, sha)."""
    top = git.repo_root(root)
    head = git.require_head(top)
    branch = git.current_branch(top) or "main"
    try:
        git.clone(top, work, branch=branch)
        git.checkout_branch(work, branch, head)
        git.set_remote_url(work, "origin", str(remote))
        for key, value in (
            ("user.name", "shipit rehearsal"),
            ("user.email", "rehearsal@localhost"),
        ):
            if git.config_value(work, key) is None:  # a release commit needs an identity
                git.set_config(work, key, value)
        git.push_ref(work, "origin", f"{branch}:refs/heads/{branch}", set_upstream=True)
        if git.list_tags(work):
            git.push_ref(work, "origin", "refs/tags/*:refs/tags/*")
    except GitError as exc:
        raise RehearsalError(
            "cannot prepare the rehearsal's clone of the repository",
            why=exc.what + (f": {exc.why}" if exc.why else ""),
            hint=exc.hint or "check that the repository is healthy (`git status`), then try again",
        ) from None
    return branch, head


def _rehearsal_config(
    work: Path, explicit: Path | None, notify_url: str, dest: Path, skip: Sequence[str] = ()
) -> Path:
    """The project's configuration with notifications sent to the local receiver (and the
    checks named in ``skip`` switched off, as `shipit check --skip` leaves them out)."""
    config = load(work, explicit).config
    # only what the project sets: a default written out would count as configured (a tag
    # format inferred from the tags would become "v{version}")
    data = config.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_unset=True)
    for name in skip:
        data.setdefault("checks", {}).setdefault(name, {})["enabled"] = False
    notify = data.setdefault("notify", {})
    configured = list(config.notify.urls)
    notify["urls"] = [notify_url]
    if configured and "succeeded" not in notify.get("events", []):
        notify["events"] = [*notify.get("events", []), "succeeded"]
    if not configured:
        notify["events"] = ["started", "succeeded", "failed", "rolled-back"]
    dest.write_text(tomlkit.dumps(data), encoding="utf-8")
    return dest


# ---------------------------------------------------------------- dependencies

NPMJS = "https://registry.npmjs.org/"
JSR_IO = "https://jsr.io/"


def upstreams(root: Path, config: Config, env: Mapping[str, str]) -> dict[str, str]:
    """Where the sandbox reads packages it does not hold from: ``[sandbox] npm-upstream`` /
    ``jsr-upstream``, else the registries the user's npm and deno use ("" turns one off)."""
    npm = config.sandbox.npm_upstream
    if npm is None:
        npm = npm_config("registry", env, root) or NPMJS
    jsr = config.sandbox.jsr_upstream
    if jsr is None:
        jsr = env.get("JSR_URL") or JSR_IO
    return {name: url for name, url in (("npm", npm), ("jsr", jsr)) if url}


def _package_dirs(root: Path, config: Config) -> list[Path]:
    """The project's directories with a package.json or a Deno config (deduplicated)."""
    found: list[Path] = []
    for rel in (".", config.npm.directory, config.jsr.directory):
        directory = (root / rel).resolve()
        has_manifest = any(
            (directory / n).is_file() for n in ("package.json", "deno.json", "deno.jsonc")
        )
        if has_manifest and directory not in found:
            found.append(directory)
    return found


def bring_dependencies(
    root: Path, work: Path, config: Config, env: Mapping[str, str], on_line: Callable[[str], None]
) -> list[str]:
    """Give the clone the project's installed dependencies; return what was done, in words.

    ``node_modules`` (npm, or deno's ``nodeModulesDir``) and deno's ``vendor/`` are linked
    from the project (nothing is copied; the rehearsal never writes into them), then the
    package's ``prepare`` script runs as ``npm install`` would have run it (its build output
    is not in git). Without an installed ``node_modules``, a ``package-lock.json`` is
    installed with ``npm ci`` (which runs ``prepare`` itself) through the sandbox's registry,
    which reads the packages from the upstream."""
    done: list[str] = []
    npm = proc.which("npm", env)
    for source in _package_dirs(root, config):
        target = work / source.relative_to(root.resolve())
        linked = False
        for name in ("node_modules", "vendor"):
            installed, wanted = source / name, target / name
            if (installed.is_dir() or installed.is_symlink()) and not wanted.exists():
                if name == "vendor" and not (source / "deno.json").is_file():
                    continue
                wanted.symlink_to(installed.resolve(), target_is_directory=True)
                done.append(f"linked {installed}")
                linked = linked or name == "node_modules"
        manifest = _package_json(target)
        argv: list[str] | None = None
        if linked and "prepare" in (manifest.get("scripts") or {}):
            argv = ["run", "prepare"]
        elif (
            (target / "package-lock.json").is_file()
            and not (target / "node_modules").exists()
            and any(manifest.get(k) for k in ("dependencies", "devDependencies"))
        ):
            argv = ["ci", "--no-audit", "--no-fund"]
        if argv is None or npm is None:
            continue
        on_line(f"npm {' '.join(argv)} in {target} (through the sandbox's registry)")
        result = proc.run([npm, *argv], cwd=target, env=env, timeout=900, on_line=on_line)
        words = f"npm {argv[0]} {argv[1] if argv[0] == 'run' else ''}".strip()
        done.append(
            f"{words} in {source}" + ("" if result.ok else f" FAILED (exit {result.returncode})")
        )
    return done


def _package_json(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------- after the release

SAVED_DIR = Path(".shipit") / "rehearsal"


def save_release_files(root: Path, work: Path, tag: str | None) -> Path | None:
    """Copy the clone's release directory (journal, events, shipit.log, logs/) into the
    project's ``.shipit/rehearsal/`` (kept out of git) before the clone goes."""
    if not tag:
        return None
    source = release_dir(work, tag)
    if not source.is_dir():
        return None
    protect(root)
    dest = root / SAVED_DIR
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for item in source.iterdir():
        if item.name in ("dist", "build"):
            continue  # artifacts stay in the clone
        if item.is_dir():
            shutil.copytree(item, dest / item.name)
        else:
            shutil.copy2(item, dest / item.name)
    return dest


def clean_tail(lines: list[str], work: Path, tag: str | None, saved: Path | None) -> list[str]:
    """The release's last lines as they read after the rehearsal: paths in the clone point at
    the saved copy, and the release's own advice (`next:`, `ways on:`: resume, rollback,
    commands for the throw-away clone) is left out; the report gives the rehearsal's."""
    release_files = str(release_dir(work, tag or ""))
    out = []
    for text in lines:
        if text.strip().startswith(("next:", "hint:", "ways on:")):
            continue
        text = text.split(" -- next: ", 1)[0]
        if saved is not None and tag:
            text = text.replace(release_files, str(saved))
        out.append(text.replace(str(work), "<rehearsal clone>"))
    return out


# ---------------------------------------------------------------- the rehearsal


@contextmanager
def _workspace(keep: bool) -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="shipit-rehearse-"))
    try:
        yield tmp
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _published(
    work: Path, config_path: Path, env: Mapping[str, str], version: str | None, tag: str | None
) -> list[Published]:
    from shipit.project.detect import detect

    config = load(work, config_path).config
    settings = Settings.from_env(env, config)
    project = detect(work, config, env)
    packages = {
        str(t.name): t.package or "?" for t in project.enabled_targets if t.name != "binaries"
    }
    found = live_versions.probe_all(
        live_versions.lookups(config, settings, packages, version, tag, timeout=10.0), 10.0
    )
    return [
        Published(
            where=lv.target,
            package=lv.package,
            version=lv.latest,
            live=lv.has_current,
            url=lv.url,
            detail=lv.error or lv.detail,
        )
        for lv in found
    ]


def _steps(work: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    from shipit.commands.status import _urls
    from shipit.engine import journal as journal_mod

    journal = journal_mod.latest(work)
    if journal is None:
        return None, []
    steps = []
    for step_id, entry in journal.steps().items():
        steps.append(
            {
                "id": step_id,
                "state": entry.state,
                "attempts": entry.attempts,
                "duration_s": entry.duration_s,
                "urls": _urls(entry.evidence),
                "error": redact(str(entry.error.what)) if entry.error is not None else None,
            }
        )
    return journal.document().model_dump(mode="json"), steps


def rehearse(
    root: Path,
    *,
    base_env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    version: str | None = None,
    skip_checks: bool = False,
    skip: Sequence[str] = (),
    keep: bool = False,
    on_line: Callable[[str], None] | None = None,
    timeout: float = 1800.0,
    dashboard: Callable[[Path, Path, Mapping[str, str]], None] | None = None,
) -> Rehearsal:
    """Run the whole rehearsal and return its report (the sandbox is always torn down)."""
    started = time.monotonic()
    base = dict(os.environ if base_env is None else base_env)
    from shipit.project.detect import detect

    if config_path is not None and not config_path.is_absolute():
        config_path = (root / config_path).resolve()
    with _workspace(keep) as tmp, _Receiver() as receiver:
        project_repo = _github_repo(root, base)
        own = load(root, config_path).config
        reads = upstreams(root, own, base)
        detected = detect(root, own, base)
        npm_target, jsr_target = detected.target("npm"), detected.target("jsr")
        sandbox = Sandbox(
            tmp / "sandbox",
            repo=project_repo,
            record=keep,  # a kept sandbox is stopped later with `shipit sandbox down --dir`
            npm_upstream=reads.get("npm"),
            jsr_upstream=reads.get("jsr"),
            npm_local=(npm_target.package,) if npm_target and npm_target.package else (),
            jsr_local=(jsr_target.package,) if jsr_target and jsr_target.package else (),
        )
        try:
            info = sandbox.up()
            sandbox_env = sandbox.env()
            register(*(v for k, v in sandbox_env.items() if k.endswith("TOKEN")))
            remote = Path(sandbox_env["SHIPIT_SANDBOX_GIT_REMOTE"])
            clone = tmp / "project"
            branch, head = make_clone(root, remote, clone)
            top = git.repo_root(root)
            work = clone / root.resolve().relative_to(top)  # the project may be a subdirectory
            explicit = config_path
            if explicit is not None and explicit.is_relative_to(top):
                explicit = clone / explicit.relative_to(top)
            cfg = _rehearsal_config(work, explicit, receiver.url, tmp / "rehearsal.toml", skip)
            npmrc = tmp / "npmrc"
            npmrc.write_text("")
            env = isolated_env(
                base,
                {k: v for k, v in sandbox_env.items() if k != "SHIPIT_SANDBOX_GIT_REMOTE"},
                npm_userconfig=npmrc,
            )
            env.update(SHIPIT_REHEARSAL="1", NO_COLOR="1")
            for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
                env.pop(name, None)
            argv = [sys.executable, "-m", "shipit", "-C", str(work), "--config", str(cfg)]
            argv += ["release", "--yes"]
            if skip_checks:
                argv.append("--skip-checks")
            if version:
                argv += ["--version", version]
            tail: list[str] = []

            def line(text: str) -> None:
                tail.append(text)
                del tail[:-40]
                if on_line is not None:
                    on_line(text)

            prepared = bring_dependencies(root, work, load(work, cfg).config, env, line)
            result = proc.run(argv, cwd=work, env=env, timeout=timeout, on_line=line)
            data, steps = _steps(work)
            inputs = (data or {}).get("inputs", {})
            rel_version = inputs.get("version") or version
            tag = inputs.get("tag")
            state = (data or {}).get("state")
            passed = result.ok and state == ReleaseState.RELEASED
            # a failure's journal and logs outlive the clone (a kept clone keeps its own)
            saved = None if passed or keep else save_release_files(root, work, tag)
            published = _published(work, cfg, env, rel_version, tag)
            if dashboard is not None:
                try:
                    dashboard(work, cfg, env)
                except ShipitError as exc:  # the dashboard is a courtesy: never fail for it
                    log.warning("could not show the dashboard: %s", exc)
            warnings = []
            prefix = root.resolve().relative_to(top).as_posix()
            dirty = [
                path
                for path in git.status_changes(top)
                if prefix in ("", ".") or path == prefix or path.startswith(prefix + "/")
            ]
            if dirty:
                warnings.append(
                    f"rehearsed commit {head[:12]} on {branch}; {len(dirty)} uncommitted "
                    "change(s) in your working tree were not part of it"
                )
            return Rehearsal(
                ok=passed,
                exit_code=result.returncode,
                version=rel_version,
                tag=tag,
                state=state,
                commit=head,
                duration_s=round(time.monotonic() - started, 1),
                published=published,
                steps=steps,
                notifications=list(receiver.received),
                services=info["services"],
                warnings=warnings + [f"dependencies: {d}" for d in prepared if "FAILED" in d],
                output_tail=clean_tail(tail[-15:], work, tag, saved),
                kept=str(tmp) if keep else None,
                saved=str(saved) if saved else None,
                stop=f"shipit sandbox down --dir {tmp / 'sandbox'}" if keep else None,
                upstreams=reads,
            )
        finally:
            if not keep:
                sandbox.down()


def _github_repo(root: Path, env: Mapping[str, str]) -> str:
    """The owner/name the sandbox's GitHub server should know (the project's, if known)."""
    try:
        url = git.remote_url(git.repo_root(root))
    except ShipitError:
        url = None
    return git.github_repo_from_url(url) or env.get("GITHUB_REPOSITORY") or DEFAULT_REPO


# ---------------------------------------------------------------- rendering


def render(report: Rehearsal, console: Console, *, steps: bool = True) -> None:
    """What a person reads at the end of a rehearsal (``steps``: the step table too)."""
    verdict = Text()
    if report.ok:
        verdict.append(
            f"rehearsal passed: {report.tag} released to the sandbox", style="bold green"
        )
    else:
        verdict.append(
            f"rehearsal FAILED: release ended {report.state or 'before it started'} "
            f"(exit {report.exit_code})",
            style="bold red",
        )
    verdict.append(f" in {report.duration_s:.0f}s", style="dim")
    console.print(verdict)
    table = Table(title="Published (asked of the sandbox's registries)", title_justify="left")
    for column in ("where", "package", "version", "this release", "url"):
        table.add_column(column, overflow="fold")
    for p in report.published:
        live = "-" if p.live is None else ("yes" if p.live else "NO")
        table.add_row(p.where, p.package, p.version or "-", live, p.url or p.detail)
    console.print(table)
    if steps:
        table = Table(title="Steps", title_justify="left")
        table.add_column("step", overflow="fold")
        table.add_column("state", no_wrap=True)
        table.add_column("tries", no_wrap=True)
        table.add_column("evidence / error", overflow="fold")
        for s in report.steps:
            detail = "\n".join(s["urls"]) + (f"\n{s['error']}" if s.get("error") else "")
            table.add_row(
                str(s["id"]), str(s["state"]), str(s.get("attempts") or ""), detail.strip()
            )
        console.print(table)
    for n in report.notifications:
        console.print(f"notification: {n['title']}", markup=False)
    if not report.notifications:
        console.print("notification: none was sent", style="yellow")
    for w in report.warnings:
        console.print(f"note: {w}", style="yellow", markup=False)
    if not report.ok and report.output_tail:
        console.print("last lines of the release:", style="bold")
        for text in report.output_tail:
            console.print(f"  {text}", markup=False, emoji=False, highlight=False, soft_wrap=True)
    # paths and commands on one line each, never wrapped: they are to be copied
    if report.saved:
        console.print(
            f"the release's journal and logs: {report.saved}", markup=False, soft_wrap=True
        )
    if not report.ok:
        console.print(
            "next: fix what the release names above, then `shipit rehearse` again "
            "(`shipit rehearse --keep` keeps the clone and the sandbox to look into)",
            markup=False,
        )
    if report.kept:
        console.print(
            f"kept for inspection: {report.kept} (the clone: {report.kept}/project)",
            markup=False,
            soft_wrap=True,
        )
        console.print(
            f"the sandbox is still running: stop it with `{report.stop}`, then remove "
            f"{report.kept}",
            markup=False,
            soft_wrap=True,
        )
    else:
        console.print("sandbox and clone removed.", style="dim")


def _skipped_checks(value: str | None) -> list[str]:
    """``--skip a,b`` as check names (an unknown name is a usage error with a suggestion)."""
    from shipit.checks import catalog
    from shipit.commands.check import _unknown_checks

    names = [n.strip() for n in (value or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in catalog.NAMES]
    if unknown:
        raise _unknown_checks(unknown, catalog.NAMES)
    return names


def register_command(app: typer.Typer) -> None:
    """Register `shipit rehearse` (replaces the placeholder in commands/sandbox.py)."""
    from shipit.commands.common import globals_of

    @app.command("rehearse")
    def rehearse_cmd(
        ctx: typer.Context,
        version: VersionOpt = None,
        skip_checks: SkipChecksOpt = False,
        skip: SkipOpt = None,
        keep: Annotated[
            bool, typer.Option("--keep", help="Keep the sandbox running and the clone on disk.")
        ] = False,
    ) -> None:
        """Rehearse the real release against a throw-away sandbox and clone, then tear down."""
        g = globals_of(ctx)
        if not g.json:
            g.err.print("rehearsing: fresh sandbox, throw-away clone, real release ...")

        def show(text: str) -> None:
            if not g.json:
                g.err.print(
                    f"  | {text}", markup=False, emoji=False, highlight=False, soft_wrap=True
                )

        def dashboard(work: Path, cfg: Path, env: Mapping[str, str]) -> None:
            if g.json:
                return
            from shipit.commands.status import collect
            from shipit.ui.status_view import render as render_status

            config = load(work, cfg).config
            report = collect(work, config, Settings.from_env(env, config), env, timeout=10.0)
            # its "what to do next" is about the throw-away clone: the rehearsal says its own
            g.err.print(render_status(dataclasses.replace(report, next=[])))

        report = rehearse(
            g.directory,
            base_env=g.env,
            config_path=g.config_path,
            version=version,
            skip_checks=skip_checks,
            skip=_skipped_checks(skip),
            keep=keep,
            on_line=show,
            dashboard=dashboard,
        )
        if g.json:
            g.emit_json(report.to_json())
        else:
            render(report, g.err, steps=False)  # the dashboard above shows every step
        raise typer.Exit(int(ExitCode.OK) if report.ok else int(ExitCode.FAILED))
