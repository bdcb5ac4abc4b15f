"""The tag format learned from a repository's tags (pure: lists of tag names in, answer out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipit.errors import VersionError
from shipit.project.model import Project
from shipit.project.release_version import choose
from shipit.project.tags import DEFAULT_FORMAT, convention, infer


@pytest.mark.parametrize(
    ("tags", "name", "expected"),
    [
        (["3.0.2", "3.0.3", "3.0.4"], None, ("{version}", ("3.0.4", "3.0.3", "3.0.2"))),
        (["v1.0.0", "v1.10.0", "v1.9.0"], None, ("v{version}", ("v1.10.0", "v1.9.0", "v1.0.0"))),
        (["@acme/lib@1.0.0", "@acme/lib@1.1.0"], "@acme/lib", ("@acme/lib@{version}", None)),
        (["tool@2.0.0", "tool@2.0.1-rc.1"], "tool", ("tool@{version}", None)),
        # a monorepo: the tags naming this package win over the more numerous others
        (
            ["core/v1.0.0", "core/v1.1.0", "core/v1.2.0", "cli/v0.1.0"],
            "@x/cli",
            ("cli/v{version}", None),
        ),
        # not release tags: four numbers, a build number, no version at all
        (["1.2.3.4", "build-17", "latest", "nightly"], None, None),
    ],
)
def test_infer(tags: list[str], name: str | None, expected: tuple[str, object] | None) -> None:
    found = infer(tags, name)
    if expected is None:
        assert found is None
        return
    assert found is not None and found[0] == expected[0]
    if expected[1] is not None:
        assert found[1] == expected[1]


def test_the_most_common_convention_wins_and_stray_tags_do_not_count() -> None:
    tags = ["v0.9.0", "1.0.0", "1.1.0", "1.2.0", "some-experiment"]
    assert infer(tags) == ("{version}", ("1.2.0", "1.1.0", "1.0.0"))


def test_inferred_convention_gives_the_next_tag_and_the_latest_version() -> None:
    tags = ["3.0.2", "3.0.3", "3.0.4"]
    found = convention(None, tags, tags, None)
    assert found.origin == "inferred" and found.format == "{version}"
    assert found.tag_for("3.0.5") == "3.0.5"
    assert (found.latest_tag, found.latest_version) == ("3.0.4", "3.0.4")
    assert found.source == "inferred from tags 3.0.4, 3.0.3, 3.0.2"
    assert found.warning is None


def test_latest_version_only_from_tags_reachable_from_head() -> None:
    found = convention(None, ["v1.0.0", "v2.0.0"], ["v1.0.0"], None)
    assert found.latest_version == "1.0.0"


def test_no_tags_is_the_default() -> None:
    found = convention(None, [], [], None)
    assert (found.format, found.origin, found.latest_tag) == (DEFAULT_FORMAT, "default", None)
    assert found.source == "the default: no release tags yet"


def test_a_configured_format_wins_and_is_warned_about_when_the_tags_disagree() -> None:
    tags = ["3.0.3", "3.0.4"]
    found = convention("v{version}", tags, tags, None)
    assert found.format == "v{version}" and found.origin == "configured"
    assert found.latest_tag is None
    assert found.warning == (
        "release.tag-format is 'v{version}', but no existing tag follows it; the tags look "
        "like '{version}' (3.0.4, 3.0.3): the next tag would be vX.Y.Z instead of X.Y.Z"
    )
    agreeing = convention("{version}", tags, tags, None)
    assert agreeing.warning is None and agreeing.latest_tag == "3.0.4"


def _tag_driven(latest: str | None) -> Project:
    tags = convention(
        None, [f"v{latest}"] if latest else [], [f"v{latest}"] if latest else [], None
    )
    return Project(Path("."), ("deno",), (), None, tags=tags, tag_driven="deno.json has no version")


def test_the_release_version_of_a_tag_driven_project_comes_from_its_latest_tag() -> None:
    project = _tag_driven("0.3.0")
    assert project.version == "0.3.0"
    assert choose(project) == "0.3.0"
    assert choose(project, bump="minor") == "0.4.0"
    assert choose(project, version="1.0.0") == "1.0.0"


def test_a_tag_driven_project_without_tags_needs_its_first_version() -> None:
    with pytest.raises(VersionError) as caught:
        choose(_tag_driven(None), bump="patch")
    assert caught.value.what == "no version to bump (patch)"
    assert caught.value.hint == "pass the first version: shipit release --version 0.1.0"
    assert choose(_tag_driven(None), version="0.1.0") == "0.1.0"
