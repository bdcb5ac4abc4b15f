"""The ``versions`` check: every version source agrees, the version suits every target,
it is greater than the last release tag, and no enabled registry has it yet.

The registry lookups are shared with the ``registry`` check (``published.PublishedLookup``);
a version already published with exactly this content is not a problem: the release can be
resumed.
"""

from __future__ import annotations

from shipit import git
from shipit.checks.base import CheckContext, CheckResult, Finding, error, failed, passed
from shipit.errors import GitError, VersionError
from shipit.project import tags
from shipit.project import versions as v

NAME = "versions"
REGISTRIES = ("npm", "jsr", "pypi")
JSON_KINDS = ("package.json", "deno.json", "jsr.json")


def _semver_or(version: str) -> str:
    try:
        return v.to_semver(version)
    except VersionError:
        return "<MAJOR.MINOR.PATCH>"


def next_patch(version: str) -> str:
    key = v.sort_key(version)
    if key is None:
        return "<next version>"
    if key.prerelease:
        return str(key.bump_prerelease())
    return str(key.bump_patch())


class VersionsCheck:
    name = NAME
    heavy = False

    def run(self, ctx: CheckContext) -> CheckResult:
        project = ctx.project
        version = ctx.version
        if not version:
            where = ", ".join(str(s.file) for s in project.sources) or "no manifest found"
            return failed(
                NAME,
                "no version found",
                [
                    Finding(
                        f"no version source states a version ({where})",
                        hint="shipit version set 0.1.0",
                    )
                ],
            )
        canon = project.canonical
        findings: list[Finding] = []
        notes: list[str] = []
        stated = canon.version if canon and canon.version else version
        for src in project.sources:
            if src.version is None or canon is None or src is canon:
                continue
            if not v.same_version(src.version, stated):
                findings.append(
                    Finding(
                        f"{src.file} says {src.version} but {canon.file} says {stated}",
                        file=str(src.file),
                        line=src.line,
                        hint="shipit version sync",
                    )
                )
        for src in project.sources:
            if src.kind in JSON_KINDS and src.version is not None and not v.is_semver(src.version):
                findings.append(
                    Finding(
                        f"{src.file} states version {src.version}, which is not SemVer "
                        "(npm and JSR read it as MAJOR.MINOR.PATCH[-pre])",
                        file=str(src.file),
                        line=src.line,
                        hint=f"shipit version set {_semver_or(src.version)}",
                    )
                )
        targets = [t.name for t in project.enabled_targets]
        semver_version = version
        try:
            semver_version = v.validate_for(
                version, targets, file=str(canon.file) if canon else None
            )
        except VersionError as exc:
            findings.append(
                Finding(
                    exc.what + (f" ({exc.why})" if exc.why else ""),
                    file=str(canon.file) if canon else None,
                    line=canon.line if canon else None,
                    hint=exc.hint,
                )
            )
            return failed(NAME, findings[-1].message, findings)
        tag_format = tags.effective_format(ctx.config, ctx.project.tags)
        try:
            last = ctx.project.repo.last_release_tag(tag_format)
        except GitError:
            last = None
        tag = tag_format.format(version=semver_version)
        if last is not None:
            m = git.tag_pattern(tag_format).match(last)
            last_version = m.group("version") if m else None
            if last_version and not v.greater(semver_version, last_version):
                repo = ctx.project.repo
                resumable = last == tag and repo.local_tag_commit(tag) == repo.head()
                if not resumable:
                    findings.append(
                        Finding(
                            f"version {semver_version} is not greater than the last release {last}",
                            file=str(canon.file) if canon else None,
                            line=canon.line if canon else None,
                            hint=f"shipit version set {next_patch(last_version)}",
                        )
                    )
        if ctx.release_version and not v.same_version(stated, ctx.release_version):
            notes.append(f"the manifests say {stated}; the release commit sets {version}")
        lookup_errors: list[Finding] = []
        if ctx.published is not None:
            for target in project.enabled_targets:
                if target.name not in REGISTRIES or not target.package:
                    continue
                st = ctx.published.state(
                    target.name, target.package, semver_version, target.directory or ctx.root
                )
                if st.error:
                    lookup_errors.append(
                        Finding(
                            f"cannot tell whether {target.name} has {target.package} "
                            f"{st.version}: {st.error}",
                            hint="check the registry URL and the network, then shipit check",
                        )
                    )
                elif st.resumable:
                    notes.append(f"{target.name} has {st.version} with this content: resumable")
                elif st.published:
                    findings.append(
                        Finding(
                            f"{target.package} {st.version} is already published on "
                            f"{target.name}"
                            + (" with other content" if st.identical is False else ""),
                            file=str(canon.file) if canon else None,
                            line=canon.line if canon else None,
                            hint=f"shipit version set {next_patch(semver_version)}",
                        )
                    )
        if findings:
            return failed(NAME, findings[0].message, findings + lookup_errors)
        if lookup_errors:
            return error(NAME, lookup_errors[0].message, lookup_errors)
        sources = len([s for s in project.sources if s.version])
        summary = f"{semver_version} in {sources} source(s)"
        if last:
            summary += f", after {last}"
        return passed(NAME, "; ".join([summary, *notes]))
