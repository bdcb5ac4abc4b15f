"""SemVer <-> PEP 440: examples and hypothesis properties (round trips, ordering, validation)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from shipit.errors import VersionError
from shipit.project import versions as v

nums = st.integers(min_value=0, max_value=10_000)
pre_names = st.sampled_from(["alpha", "beta", "rc"])


@st.composite
def mappable_semver(draw: st.DrawFn) -> str:
    """Canonical SemVer versions that have a PEP 440 form."""
    text = f"{draw(nums)}.{draw(nums)}.{draw(nums)}"
    parts: list[str] = []
    if draw(st.booleans()):
        parts += [draw(pre_names), str(draw(nums))]
    if draw(st.booleans()):
        parts += ["post", str(draw(nums))]
    if draw(st.booleans()):
        parts += ["dev", str(draw(nums))]
    if parts:
        text += "-" + ".".join(parts)
    if draw(st.booleans()):
        word = st.text(alphabet="abcdefxyz", min_size=1, max_size=6)
        label = st.one_of(word, nums.map(str), st.tuples(word, nums).map(lambda t: f"{t[0]}{t[1]}"))
        text += "+" + ".".join(draw(st.lists(label, min_size=1, max_size=3)))
    return text


@st.composite
def pep440_versions(draw: st.DrawFn) -> str:
    """Normalized PEP 440 versions with three release numbers and no epoch."""
    text = f"{draw(nums)}.{draw(nums)}.{draw(nums)}"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["a", "b", "rc"])) + str(draw(nums))
    if draw(st.booleans()):
        text += f".post{draw(nums)}"
    if draw(st.booleans()):
        text += f".dev{draw(nums)}"
    return text


@pytest.mark.parametrize(
    ("semver_form", "pep440_form"),
    [
        ("1.2.0", "1.2.0"),
        ("1.2.0-rc.1", "1.2.0rc1"),
        ("1.2.0-alpha.1", "1.2.0a1"),
        ("1.2.0-beta.2", "1.2.0b2"),
        ("1.2.0-dev.3", "1.2.0.dev3"),
        ("1.2.0-post.1", "1.2.0.post1"),
        ("1.2.0-rc.1.dev.2", "1.2.0rc1.dev2"),
        ("1.0.0+build.5", "1.0.0+build.5"),
    ],
)
def test_known_pairs(semver_form: str, pep440_form: str) -> None:
    assert v.to_pep440(semver_form) == pep440_form
    assert v.to_semver(pep440_form) == semver_form
    assert v.same_version(semver_form, pep440_form)


def test_loose_spellings_map_to_the_same_release() -> None:
    assert v.to_pep440("1.2.0-rc1") == "1.2.0rc1"
    assert v.to_pep440("1.2.0-RC.1") == "1.2.0rc1"
    assert v.to_pep440("1.2.0-preview.4") == "1.2.0rc4"
    assert v.to_pep440("1.2.0-rc") == "1.2.0rc0"
    assert v.same_version("1.2.0-rc1", "1.2.0-rc.1")
    assert v.to_semver("1.2") == "1.2.0"


@pytest.mark.parametrize("bad", ["1.2.0-next.1", "1.2.0-dev.1.rc.1", "1.2.0-rc.1.rc.2"])
def test_unmappable_prerelease_names_the_file(bad: str) -> None:
    with pytest.raises(VersionError) as info:
        v.to_pep440(bad, file="pyproject.toml")
    assert "pyproject.toml" in info.value.what and bad in info.value.what
    assert info.value.hint


@pytest.mark.parametrize("bad", ["1.0.0+build-5", "1.0.0+007", "1.0.0+Build"])
def test_build_metadata_pep440_would_rewrite_is_refused(bad: str) -> None:
    with pytest.raises(VersionError):
        v.to_pep440(bad)


@pytest.mark.parametrize("bad", ["1!1.0.0", "1.2.3.4"])
def test_pep440_without_semver_form(bad: str) -> None:
    with pytest.raises(VersionError):
        v.to_semver(bad)


@pytest.mark.parametrize("bad", ["v1.0.0", "1.0", "01.0.0", "banana", "", "1.0.0-"])
def test_validate_for_npm_rejects_non_semver_and_names_the_file(bad: str) -> None:
    if bad == "1.0":
        # a PEP 440 spelling is accepted and mapped
        assert v.validate_for(bad, ["npm"]) == "1.0.0"
        return
    with pytest.raises(VersionError) as info:
        v.validate_for(bad, ["npm", "jsr"], file="deno.json")
    assert "deno.json" in info.value.what


def test_validate_for_pypi_needs_a_pep440_form() -> None:
    assert v.validate_for("1.2.0-rc.1", ["pypi", "npm"]) == "1.2.0-rc.1"
    assert v.validate_for("1.2.0rc1", ["pypi"]) == "1.2.0-rc.1"
    assert v.validate_for("1.2.0-next.1", ["npm"]) == "1.2.0-next.1"
    with pytest.raises(VersionError):
        v.validate_for("1.2.0-next.1", ["npm", "pypi"])


def test_ordering() -> None:
    assert v.greater("1.0.0", "1.0.0-rc.1")
    assert v.greater("1.0.0-rc.10", "1.0.0-rc.2")
    assert v.greater("0.10.0", "0.9.0")
    assert not v.greater("1.0.0", "1.0.0")
    assert v.compare("1.2.0rc1", "1.2.0-rc.1") == 0
    with pytest.raises(VersionError):
        v.compare("banana", "1.0.0")


def test_prerelease_helpers() -> None:
    assert v.prerelease_id("1.2.0-rc.1") == "rc"
    assert v.prerelease_id("1.2.0-beta2") == "beta"
    assert v.prerelease_id("1.2.0") is None
    assert v.is_prerelease("1.2.0rc1") and not v.is_prerelease("1.2.0")


@given(mappable_semver())
def test_semver_round_trips_through_pep440(version: str) -> None:
    pep = v.to_pep440(version)
    assert str(Version(pep)) == pep  # already normalized
    back = v.to_semver(pep)
    assert back == version
    assert v.same_version(version, pep)


@given(pep440_versions())
def test_pep440_round_trips_through_semver(version: str) -> None:
    sem = v.to_semver(version)
    assert semver.Version.is_valid(sem)
    assert v.to_pep440(sem) == version


@given(mappable_semver(), mappable_semver())
def test_equal_pep440_means_same_version(a: str, b: str) -> None:
    assert v.same_version(a, b) == (Version(v.to_pep440(a)) == Version(v.to_pep440(b)))


@given(pep440_versions(), pep440_versions())
def test_release_order_agrees_for_final_and_pre_releases(a: str, b: str) -> None:
    """Without dev/post parts, SemVer order of the mapped forms equals PEP 440 order."""
    if any(tag in x for x in (a, b) for tag in ("dev", "post")):
        return
    expected = (Version(a) > Version(b)) - (Version(a) < Version(b))
    assert v.compare(v.to_semver(a), v.to_semver(b)) == expected


@given(st.text(max_size=20))
def test_parsing_never_crashes(text: str) -> None:
    """Any string either validates or raises a VersionError, never anything else."""
    try:
        result = v.validate_for(text, ["npm", "pypi"])
    except VersionError:
        return
    assert semver.Version.is_valid(result)
    Version(v.to_pep440(result))


@pytest.mark.parametrize(
    "bad", ["99999999999999999999.0.0", "1.9007199254740992.0", "1.0.9007199254740992"]
)
def test_numbers_npm_cannot_hold_are_refused_everywhere(bad: str) -> None:
    with pytest.raises(VersionError) as info:
        v.validate_for(bad, ["pypi"], file="package.json")
    assert "cannot be published" in info.value.what and "package.json" in info.value.what
    assert "9007199254740991" in (info.value.why or "")
    assert v.validate_for("9007199254740991.0.0", ["npm", "jsr", "pypi"]) == "9007199254740991.0.0"


def test_a_version_longer_than_npm_accepts_is_refused() -> None:
    with pytest.raises(VersionError) as info:
        v.validate_for("1.0.0-" + "a" * 251, ["npm"])
    assert "256" in (info.value.why or "")


# what npm's own semver 7.8.5 (`semver.inc(version, part, preid)`) answers; the last test
# asks the semver module of the installed npm for the same table
NPM_INC = [
    ("1.2.3", "prerelease", None, "1.2.4-0"),
    ("1.2.3", "prerelease", "rc", "1.2.4-rc.0"),
    ("1.2.4-rc.0", "prerelease", None, "1.2.4-rc.1"),
    ("1.2.4-rc.0", "prerelease", "rc", "1.2.4-rc.1"),
    ("1.2.4-rc.1", "prerelease", "beta", "1.2.4-beta.0"),
    ("1.2.4-0", "prerelease", None, "1.2.4-1"),
    ("1.2.4-0", "prerelease", "rc", "1.2.4-rc.0"),
    ("1.2.4-alpha", "prerelease", None, "1.2.4-alpha.0"),
    ("1.2.4-alpha", "prerelease", "alpha", "1.2.4-alpha.0"),
    ("1.2.4-alpha.beta", "prerelease", None, "1.2.4-alpha.beta.0"),
    ("1.0.0-rc.1.2", "prerelease", None, "1.0.0-rc.1.3"),
    ("0.0.0", "prerelease", "dev", "0.0.1-dev.0"),
    ("1.2.4-rc.0", "patch", None, "1.2.4"),
    ("1.2.4-rc.0", "minor", None, "1.3.0"),
    ("1.3.0-rc.0", "minor", None, "1.3.0"),
    ("2.0.0-rc.0", "major", None, "2.0.0"),
    ("1.2.4-rc.0", "major", None, "2.0.0"),
    ("1.2.3", "major", None, "2.0.0"),
    ("1.2.3", "minor", None, "1.3.0"),
    ("1.2.3", "patch", None, "1.2.4"),
    ("1.2.3+build.5", "patch", None, "1.2.4"),
]


@pytest.mark.parametrize(("version", "part", "preid", "expected"), NPM_INC)
def test_bump_follows_npm_semver_inc(
    version: str, part: str, preid: str | None, expected: str
) -> None:
    assert v.bump(version, part, preid) == expected


def test_bump_reads_a_pep440_version_and_refuses_unknown_parts_and_npm_limits() -> None:
    assert v.bump("1.2.3rc1", "prerelease") == "1.2.3-rc.2"
    with pytest.raises(VersionError) as info:
        v.bump("1.2.3", "micro")
    assert "major, minor, patch, prerelease" in (info.value.why or "")
    with pytest.raises(VersionError):
        v.bump("9007199254740991.0.0", "major")


def test_the_table_is_what_npms_own_semver_answers() -> None:
    root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, check=True)
    module = Path(root.stdout.strip()) / "npm" / "node_modules" / "semver"
    script = (
        "const s = require(process.argv[1]);"
        "const rows = JSON.parse(process.argv[2]);"
        "console.log(JSON.stringify(rows.map(([v, p, i]) => s.inc(v, p, i || undefined))));"
    )
    rows = json.dumps([[a, b, c] for a, b, c, _ in NPM_INC])
    answer = subprocess.run(
        ["node", "-e", script, str(module), rows], capture_output=True, text=True, check=True
    )
    assert json.loads(answer.stdout) == [expected for *_, expected in NPM_INC]
