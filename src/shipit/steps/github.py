"""GitHub release steps: ``github:draft``, one ``github:asset:<name>`` per file, ``github:publish``.

The release is created as a draft (body: this version's CHANGELOG.md section, else GitHub's
generated notes), every asset is uploaded into it, and only then is it published, so nobody sees
a half-filled release. Probes ask GitHub: a published release for the tag is reused; our draft
is found by listing releases (drafts are not tied to their tag); an asset with the same name,
size and digest is done, the same name with other content is a conflict unless
``--replace-assets``; an asset left in a non-``uploaded`` state by a cut-off upload is deleted
before uploading again. Undo deletes uploaded assets and the release (and turns a release it
published back into a draft); the tag belongs to the git step.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import semver

from shipit.engine.step import Context, Evidence, Probe, Progress, Step, Undo
from shipit.errors import GitHubError, PermanentError
from shipit.registries.github import GitHub, releases_url
from shipit.steps import binaries, checksums
from shipit.steps._kind import one_step_per_target
from shipit.steps._slots import Slots

log = logging.getLogger("shipit.steps.github")

DRAFT_ID = "github:draft"
ASSET_PREFIX = "github:asset:"
PUBLISH_ID = "github:publish"

_UPLOADS = Slots()  # at most `github.upload-concurrency` uploads at once in this process


# ------------------------------------------------------------------ facts


def repository(ctx: Context) -> str:
    repo = ctx.settings.github_repository
    if not repo:
        target = ctx.project.targets.get("github")
        repo = target.package if target is not None else None
    if not repo:
        raise PermanentError(
            "which GitHub repository to release to is unknown",
            why="GITHUB_REPOSITORY is not set and `repository` is missing in [github]",
            hint='set `repository = "owner/name"` in [github] or export GITHUB_REPOSITORY',
        )
    return repo


def client(ctx: Context) -> GitHub:
    return GitHub.from_settings(ctx.config, ctx.settings, repository=repository(ctx))


def is_prerelease(ctx: Context) -> bool:
    if ctx.config.github.prerelease is not None:
        return ctx.config.github.prerelease
    try:
        return semver.Version.parse(ctx.version).prerelease is not None
    except ValueError:
        return bool(re.search(r"[-](alpha|beta|rc|pre|dev|next)", ctx.version))


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def changelog_section(text: str, version: str) -> str | None:
    """The body under ``## [1.2.3]``, ``## 1.2.3``, ``## v1.2.3`` (with optional date/link)
    up to the next heading of the same or a higher level; None when absent or empty."""
    wanted = re.compile(rf"^\[?v?{re.escape(version)}\]?(?:$|[\s(:\u2014\u2013-])")
    lines = text.splitlines()
    start: int | None = None
    level = 0
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if not m:
            continue
        if start is None:
            if wanted.match(m.group(2).strip()):
                start, level = i + 1, len(m.group(1))
        elif len(m.group(1)) <= level:
            body = "\n".join(lines[start:i]).strip()
            return body or None
    if start is None:
        return None
    return "\n".join(lines[start:]).strip() or None


def release_notes(ctx: Context) -> str | None:
    path = ctx.root / ctx.config.release.changelog
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    return changelog_section(text, ctx.version)


def asset_files(ctx: Context) -> list[Path]:
    """Every file of the release: binaries/archives, extra assets, SHA256SUMS, signature."""
    return checksums.release_files(ctx)


def github_name(name: str) -> str:
    """The name GitHub gives an uploaded file (special characters become dots)."""
    return re.sub(r"[^A-Za-z0-9._+\-@]", ".", name).strip(".")


def _release_evidence(rel: dict[str, Any], *, created: bool) -> Evidence:
    return {
        "id": rel.get("id"),
        "tag": rel.get("tag_name"),
        "draft": bool(rel.get("draft")),
        "html_url": rel.get("html_url"),
        "upload_url": rel.get("upload_url"),
        "created": created,
    }


def _find(ctx: Context, gh: GitHub) -> dict[str, Any] | None:
    recorded = ctx.evidence_of(DRAFT_ID).get("id")
    return gh.find_release(ctx.tag, recorded if isinstance(recorded, int) else None)


def _draft_for(ctx: Context, gh: GitHub, doing: str) -> dict[str, Any]:
    """The release the draft step made, which ``doing`` (``publish``, ``upload x into``)
    needs; PermanentError when it is gone."""
    rel = _find(ctx, gh)
    if rel is None:
        raise PermanentError(
            f"no GitHub release {ctx.tag} to {doing}",
            why="the draft is missing (deleted on GitHub?)",
            hint="run `shipit resume`; the draft step creates it again",
        )
    return rel


# ------------------------------------------------------------------ draft


class Draft:
    """The draft release for the tag (or the published one already there)."""

    id = DRAFT_ID
    needs: tuple[str, ...] = ()
    reversible = True

    def describe(self, ctx: Context) -> str:
        notes = "CHANGELOG section" if release_notes(ctx) else "generated notes"
        repo = ctx.settings.github_repository or "(repository)"
        return (
            f"create a draft GitHub release {ctx.tag} on {repo} ({notes})\n"
            f"POST {releases_url(ctx.settings.github_api_url, repo)} draft=true"
        )

    def probe(self, ctx: Context) -> Probe:
        with client(ctx) as gh:
            rel = _find(ctx, gh)
        if rel is None:
            return Probe.todo(f"no release for {ctx.tag} yet")
        created = bool(ctx.evidence_of(DRAFT_ID).get("created")) and bool(rel.get("draft"))
        state = "draft" if rel.get("draft") else "published release"
        return Probe.already_done(
            _release_evidence(rel, created=created), why=f"{state} {rel.get('id')} exists"
        )

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        with client(ctx) as gh:
            rel = _find(ctx, gh)
            if rel is not None:
                return _release_evidence(rel, created=False)
            notes = release_notes(ctx)
            fields: dict[str, Any] = {
                "tag_name": ctx.tag,
                "target_commitish": ctx.commit,
                "name": ctx.tag,
                "draft": True,
                "prerelease": is_prerelease(ctx),
            }
            if notes:
                fields["body"] = notes
            else:
                fields["generate_release_notes"] = ctx.config.github.generate_notes
            progress.status(f"creating draft {ctx.tag}")
            try:
                rel = gh.create_release(**fields)
            except GitHubError as exc:
                if exc.status == 422 and exc.has_code("already_exists"):
                    found = _find(ctx, gh)
                    if found is not None:
                        return _release_evidence(found, created=False)
                raise
            return _release_evidence(rel, created=True)

    def undo(self, ctx: Context) -> Undo:
        rid = _release_we_changed(ctx, DRAFT_ID, "created")
        if rid is None:
            return Undo.nothing("the release existed before this release; left as it is")
        with client(ctx) as gh:
            if gh.delete_release(rid):
                return Undo.undone(f"deleted GitHub release {ctx.tag} (id {rid})")
        return Undo.nothing(f"GitHub release {rid} was already gone")


def _release_we_changed(ctx: Context, step_id: str, flag: str) -> int | None:
    """The GitHub release id ``step_id`` recorded when this release made its change there
    (the evidence's ``flag`` is true); None when the release was already so before."""
    evidence = ctx.evidence_of(step_id)
    rid = evidence.get("id")
    return rid if evidence.get(flag) and isinstance(rid, int) else None


# ------------------------------------------------------------------ assets


class Asset:
    """Upload one file into the draft; done when the same bytes are there."""

    reversible = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self.id = ASSET_PREFIX + path.name
        self.needs: tuple[str, ...] = (DRAFT_ID,)

    def describe(self, ctx: Context) -> str:
        return f"upload {self.name} to the draft {ctx.tag}\nPOST <upload_url>?name={self.name}"

    def _local(self) -> tuple[str, int]:
        if not self.path.exists():
            raise PermanentError(
                f"cannot upload {self.name}: the file is missing",
                why=f"expected at {self.path}",
                hint="run `shipit resume` to build it again",
            )
        return binaries.sha256_file(self.path)

    def _existing(self, gh: GitHub, rid: int, ctx: Context | None = None) -> dict[str, Any] | None:
        names = {self.name, github_name(self.name)}
        if ctx is not None:
            recorded = ctx.evidence_of(self.id).get("name")
            if isinstance(recorded, str):
                names.add(recorded)  # the name GitHub gave it
        for asset in gh.list_assets(rid):
            if asset.get("name") in names:
                return asset
        return None

    @staticmethod
    def _same(asset: dict[str, Any], sha: str, size: int) -> bool:
        if asset.get("size") != size:
            return False
        digest = asset.get("digest")
        return not digest or digest == f"sha256:{sha}"

    def _evidence(self, asset: dict[str, Any], rid: int, sha: str) -> Evidence:
        return {
            "release_id": rid,
            "asset_id": asset.get("id"),
            "name": asset.get("name"),
            "size": asset.get("size"),
            "sha256": sha,
            "url": asset.get("browser_download_url"),
        }

    def probe(self, ctx: Context) -> Probe:
        if not self.path.exists():
            return Probe.todo(f"{self.name} is not built yet")
        sha, size = self._local()
        with client(ctx) as gh:
            rel = _find(ctx, gh)
            if rel is None:
                return Probe.todo("the release does not exist yet")
            rid = int(rel["id"])
            asset = self._existing(gh, rid, ctx)
        if asset is None:
            return Probe.todo(f"{self.name} not uploaded yet")
        if asset.get("state") != "uploaded":
            return Probe.todo(f"{self.name} was cut off (state {asset.get('state')}); re-upload")
        if self._same(asset, sha, size):
            return Probe.already_done(
                self._evidence(asset, rid, sha), why=f"{self.name} is uploaded"
            )
        if ctx.replace_assets:
            return Probe.todo(f"{self.name} differs on GitHub; --replace-assets replaces it")
        return Probe.conflict(
            f"the release {ctx.tag} already has an asset {asset.get('name')} with other content "
            f"(size {asset.get('size')}, {asset.get('digest') or 'no digest'}; "
            f"ours: size {size}, sha256:{sha})",
            "check which file is right; `shipit github --replace-assets` replaces it, "
            "or delete the asset on GitHub",
        )

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        sha, size = self._local()
        with client(ctx) as gh:
            rel = _draft_for(ctx, gh, f"upload {self.name} into")
            rid = int(rel["id"])
            if not rel.get("draft") and ctx.evidence_of(DRAFT_ID).get("created"):
                log.info("release %s is already published; uploading into it", rid)
            existing = self._existing(gh, rid, ctx)
            if existing is not None:
                uploaded = existing.get("state") == "uploaded"
                if uploaded and self._same(existing, sha, size):
                    return self._evidence(existing, rid, sha)
                if uploaded and not ctx.replace_assets:
                    raise PermanentError(
                        f"{ctx.tag} already has an asset {existing.get('name')} with other content",
                        hint="`shipit github --replace-assets` replaces it",
                    )
                progress.status(f"deleting the old {existing.get('name')}")
                gh.delete_asset(int(existing["id"]))
            slot = _UPLOADS.slot(ctx.config.github.upload_concurrency)
            progress.status(f"waiting to upload {self.name}")
            with slot:
                progress.status(f"uploading {self.name}")
                progress.advance(0, size, self.name)
                try:
                    asset = gh.upload_asset(
                        rel,
                        self.path,
                        name=self.name,
                        on_progress=lambda sent, total: progress.advance(sent, total, self.name),
                    )
                except GitHubError as exc:
                    if exc.status == 422 and exc.has_code("already_exists"):
                        found = self._existing(gh, rid, ctx)
                        if (
                            found is not None
                            and found.get("state") == "uploaded"
                            and self._same(found, sha, size)
                        ):
                            return self._evidence(found, rid, sha)
                    raise
            digest = asset.get("digest")
            if asset.get("size") != size or (digest and digest != f"sha256:{sha}"):
                raise PermanentError(
                    f"GitHub stored {self.name} with other content than sent",
                    why=f"size {asset.get('size')} / {digest}, sent {size} / sha256:{sha}",
                    hint="run `shipit github --replace-assets` to upload it again",
                )
            return self._evidence(asset, rid, sha)

    def undo(self, ctx: Context) -> Undo:
        evidence = ctx.evidence_of(self.id)
        aid = evidence.get("asset_id")
        with client(ctx) as gh:
            if not isinstance(aid, int):
                rel = _find(ctx, gh)
                found = self._existing(gh, int(rel["id"]), ctx) if rel else None
                aid = int(found["id"]) if found else None
            if aid is None:
                return Undo.nothing(f"{self.name} is not on GitHub")
            try:
                deleted = gh.delete_asset(aid)
            except GitHubError as exc:
                if exc.status == 422:
                    return Undo.irreversible(
                        f"GitHub keeps {self.name}: {exc.message}",
                        "the release is immutable; publish a new version instead",
                    )
                raise
        return Undo.undone(f"deleted asset {self.name}") if deleted else Undo.nothing()


# ------------------------------------------------------------------ publish


class Publish:
    """Turn the filled draft into a published release."""

    id = PUBLISH_ID
    reversible = True

    def __init__(self, needs: tuple[str, ...]) -> None:
        self.needs = needs
        self.expected = [n.removeprefix(ASSET_PREFIX) for n in needs if n.startswith(ASSET_PREFIX)]

    def describe(self, ctx: Context) -> str:
        return f"publish the GitHub release {ctx.tag}\nPATCH .../releases/<id> draft=false"

    def probe(self, ctx: Context) -> Probe:
        with client(ctx) as gh:
            rel = _find(ctx, gh)
        if rel is None:
            return Probe.todo("the release does not exist yet")
        if rel.get("draft"):
            return Probe.todo(f"release {rel.get('id')} is still a draft")
        return Probe.already_done(
            {"id": rel.get("id"), "html_url": rel.get("html_url"), "published_by_us": False},
            why=f"{ctx.tag} is published",
        )

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        with client(ctx) as gh:
            rel = _draft_for(ctx, gh, "publish")
            rid = int(rel["id"])
            if not rel.get("draft"):
                return {"id": rid, "html_url": rel.get("html_url"), "published_by_us": False}
            present = {
                str(a.get("name")) for a in gh.list_assets(rid) if a.get("state") == "uploaded"
            }
            missing = [
                n for n in self.expected if n not in present and github_name(n) not in present
            ]
            if missing:
                raise PermanentError(
                    f"the draft {ctx.tag} is missing assets: {', '.join(missing)}",
                    why="publishing now would show a half-filled release",
                    hint="run `shipit resume` to upload them",
                )
            progress.status(f"publishing {ctx.tag}")
            fields: dict[str, Any] = {"draft": False, "tag_name": ctx.tag}
            if not is_prerelease(ctx):
                fields["make_latest"] = "true"
            try:
                published = gh.update_release(rid, **fields)
            except GitHubError as exc:
                if exc.status == 422 and exc.has_code("already_exists"):
                    again = _find(ctx, gh)
                    if again is not None and not again.get("draft") and again.get("id") == rid:
                        return {
                            "id": rid,
                            "html_url": again.get("html_url"),
                            "published_by_us": True,
                        }
                    raise PermanentError(
                        f"another release for {ctx.tag} was published meanwhile",
                        why=f"GitHub refused to publish draft {rid}: {exc.message}",
                        hint="compare the two releases on GitHub, delete the wrong one, "
                        "then `shipit resume`",
                    ) from None
                raise
        return {"id": rid, "html_url": published.get("html_url"), "published_by_us": True}

    def undo(self, ctx: Context) -> Undo:
        rid = _release_we_changed(ctx, PUBLISH_ID, "published_by_us")
        if rid is None:
            return Undo.nothing("the release was published before this release")
        with client(ctx) as gh:
            try:
                gh.update_release(rid, draft=True)
            except GitHubError as exc:
                if exc.status == 404:
                    return Undo.nothing("the release is gone")
                if exc.status == 422:
                    return Undo.irreversible(
                        f"GitHub keeps {ctx.tag} published: {exc.message}",
                        "immutable releases cannot be withdrawn; publish a fixed version",
                    )
                raise
        return Undo.undone(f"turned {ctx.tag} back into a draft")


# ------------------------------------------------------------------ factories


draft_steps = one_step_per_target("github", Draft)


def asset_steps(ctx: Context) -> list[Step]:
    if not ctx.project.target("github"):
        return []
    return [Asset(p) for p in asset_files(ctx)]


def publish_steps(ctx: Context) -> list[Step]:
    if not ctx.project.target("github"):
        return []
    needs = (DRAFT_ID, *(ASSET_PREFIX + p.name for p in asset_files(ctx)))
    return [Publish(needs)]
