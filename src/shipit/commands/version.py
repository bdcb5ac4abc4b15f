"""CLI: `shipit version` (show every source), `version set X`, `version sync`, `shipit schema`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from shipit.commands.common import Globals, globals_of
from shipit.config import schema as config_schema
from shipit.errors import ShipitError
from shipit.project.model import Project
from shipit.project.sync import Change, check_consistent, set_version, sync
from shipit.project.versions import to_pep440
from shipit.ui.errors import render_error

version_app = typer.Typer(
    name="version",
    help="Show the version in every file, or set / sync it.",
    invoke_without_command=True,
    no_args_is_help=False,
    add_completion=False,
)


def _detect(g: Globals) -> Project:
    from shipit.project.detect import detect

    config = g.load_config().config
    return detect(g.directory, config, g.env)


def _pypi_form(project: Project) -> str | None:
    if project.version is None:
        return None
    try:
        return to_pep440(project.version)
    except ShipitError:
        return None


def project_json(project: Project) -> dict[str, Any]:
    """The document `shipit version --json` prints."""
    return {
        "version": project.version,
        "pep440": _pypi_form(project),
        "consistent": project.consistent,
        "canonical": str(project.canonical.file) if project.canonical else None,
        "sources": [
            {"file": str(s.file), "kind": s.kind, "version": s.version, "line": s.line}
            for s in project.sources
        ],
        "targets": [
            {"name": t.name, "enabled": t.enabled, "reason": t.reason, "package": t.package}
            for t in project.targets.values()
        ],
        "ecosystems": list(project.ecosystems),
        "name": project.name,
        "notes": list(project.notes),
        "warnings": list(project.warnings),
        "tag_format": project.tags.format,
        "tag_source": project.tags.source,
        "latest_tag": project.tags.latest_tag,
        "tag_driven": project.tag_driven,
    }


def _render(g: Globals, project: Project) -> None:
    out = g.out
    name = project.name or project.root.name
    if project.version is None and project.tag_driven:
        out.print(f"[bold]{escape(name)}[/]: no release tag yet ({escape(project.tag_driven)})")
    elif project.version is None:
        out.print(f"[bold]{escape(name)}[/]: no version found")
    elif project.tag_driven:
        out.print(
            f"[bold]{escape(name)}[/] {escape(project.version)} "
            f"(from the tag {escape(project.tags.latest_tag or '')}; "
            f"{escape(project.tag_driven)})"
        )
    else:
        out.print(f"[bold]{escape(name)}[/] {escape(project.version)}")
    out.print(f"tags: {escape(project.tags.format)} ({escape(project.tags.source)})")
    if project.sources:
        table = Table(show_edge=False, box=None, pad_edge=False)
        table.add_column("file")
        table.add_column("kind", style="dim")
        table.add_column("version")
        canonical = project.canonical.file if project.canonical else None
        from shipit.project.versions import same_version

        for s in project.sources:
            mark = " (canonical)" if s.file == canonical else ""
            shown = s.version or "-"
            agrees = (
                s.version is not None
                and project.version is not None
                and same_version(s.version, project.version)
            )
            style = "green" if agrees else "red"
            table.add_row(escape(f"{s.file}{mark}"), s.kind, f"[{style}]{escape(shown)}[/]")
        out.print(table)
    state = "consistent" if project.consistent else "[red]INCONSISTENT[/]"
    if not project.sources:
        state = "from the git tags" if project.tag_driven else "none found"
    out.print(f"versions: {state}")
    targets = Table(show_edge=False, box=None, pad_edge=False, title_justify="left")
    targets.add_column("target")
    targets.add_column("")
    targets.add_column("why", style="dim")
    for t in project.targets.values():
        on = "[green]on[/]" if t.enabled else "[dim]off[/]"
        targets.add_row(t.name, on, escape(t.reason))
    out.print("targets:")
    out.print(targets)
    for note in project.notes:
        g.err.print(f"note: {escape(note)}")
    for warning in project.warnings:
        g.err.print(f"[yellow]warning:[/] {escape(warning)}")


def _show(g: Globals) -> None:
    project = _detect(g)
    error: ShipitError | None = None
    try:
        check_consistent(project)
    except ShipitError as exc:
        error = exc
    if g.json:
        doc = project_json(project)
        if error is not None:
            doc["error"] = error.to_json()
        g.emit_json(doc)
        if error is not None:
            render_error(g.err, error)
            raise typer.Exit(int(error.exit_code))
        return
    _render(g, project)
    if error is not None:
        raise error
    if project.version is None and project.tag_driven:
        g.err.print(
            "hint: the version comes from the git tags and there is none yet; the first "
            "release names it: shipit release --version 0.1.0"
        )
    elif project.version is None:
        g.err.print(
            "hint: no deno.json, jsr.json, package.json or pyproject.toml states a version; "
            "add one, or list files in project.version-files"
        )


def _report_changes(g: Globals, verb: str, version: str, changes: list[Change]) -> None:
    if g.json:
        g.emit_json(
            {
                "version": version,
                "changed": [{"file": str(c.file), "old": c.old, "new": c.new} for c in changes],
            }
        )
        return
    if not changes:
        g.out.print(f"every file already states {version}; nothing changed")
        return
    for c in changes:
        g.out.print(f"{c.file}: {c.old or '-'} -> {c.new}")
    g.out.print(f"{verb} {version} in {len(changes)} file(s)")


@version_app.callback()
def version_main(ctx: typer.Context) -> None:
    """Show every file that states the version, whether they agree, and the publish targets.

    Exits 1 when the files disagree (naming them); `shipit version sync` fixes that.
    """
    if ctx.invoked_subcommand is None:
        _show(globals_of(ctx))


@version_app.command("set")
def version_set(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="The new version, e.g. 1.2.0 or 1.2.0-rc.1.")],
) -> None:
    """Write VERSION into every version file (each in its own form: 1.2.0rc1 for Python)."""
    g = globals_of(ctx)
    project = _detect(g)
    written, changes = set_version(project, version)
    if project.tag_driven and not changes:
        tag = project.tag_for(written)
        if g.json:
            g.emit_json({"version": written, "changed": [], "tag_driven": project.tag_driven})
            return
        g.out.print(
            f"nothing to write: {project.tag_driven}. The version of this project is its "
            f"release tag; `shipit release --version {written}` tags {tag} and publishes "
            f"{written} (JSR: deno publish --set-version {written}; build commands get "
            "{version} and SHIPIT_VERSION)",
            markup=False,
        )
        return
    _report_changes(g, "set", written, changes)


@version_app.command("sync")
def version_sync(ctx: typer.Context) -> None:
    """Copy the canonical file's version into every other version file."""
    g = globals_of(ctx)
    written, changes = sync(_detect(g))
    _report_changes(g, "synced", written, changes)


def register(app: typer.Typer) -> None:
    app.add_typer(version_app)

    @app.command("schema")
    def schema() -> None:
        """Print the JSON Schema of shipit.toml."""
        typer.echo(json.dumps(config_schema(), indent=2))


__all__ = ["project_json", "register"]
