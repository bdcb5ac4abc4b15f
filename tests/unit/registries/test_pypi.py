"""The PyPI adapter: the one derivation of the index URL, simple pages as PyPI and
pypiserver write them (with and without ``#sha256=``, yanked files), downloads to hash."""

from __future__ import annotations

import hashlib

import pytest

from shipit.config import Config, PypiConfig, Settings
from shipit.errors import TransientError
from shipit.registries.pypi import PyPI, file_version, index_url, normalize, parse_simple

from .conftest import Canned

SHA_WHL = "a" * 64
SHA_SDIST = "b" * 64

FILES = "https://files.pythonhosted.org/packages"


def _a(href: str, text: str, attrs: str = 'data-requires-python="&gt;=3.9"') -> str:
    return f'    <a href="{href}" {attrs}>{text}</a><br />'


# warehouse's PEP 503 page (trimmed): absolute links, data attributes, yanked files
PYPI_PAGE = "\n".join(
    [
        "<!DOCTYPE html>",
        "<html>",
        '  <head><meta name="pypi:repository-version" content="1.3">',
        "    <title>Links for acme-widget</title></head>",
        "  <body>",
        "    <h1>Links for acme-widget</h1>",
        _a(
            f"{FILES}/aa/bb/acme_widget-1.0.0-py3-none-any.whl#sha256={SHA_WHL}",
            "acme_widget-1.0.0-py3-none-any.whl",
            f'data-requires-python="&gt;=3.9" data-dist-info-metadata="sha256={"c" * 64}" '
            f'data-core-metadata="sha256={"c" * 64}"',
        ),
        _a(
            f"{FILES}/cc/dd/acme_widget-1.0.0.tar.gz#sha256={SHA_SDIST}", "acme_widget-1.0.0.tar.gz"
        ),
        _a(
            f"{FILES}/ee/ff/acme_widget-1.1.0rc1.tar.gz#sha256={'d' * 64}",
            "acme_widget-1.1.0rc1.tar.gz",
        ),
        _a(
            f"{FILES}/11/22/acme_widget-0.9.0.tar.gz#sha256={'e' * 64}",
            "acme_widget-0.9.0.tar.gz",
            'data-yanked="broken metadata"',
        ),
        "  </body>",
        "</html>",
        "<!--SERIAL 123456-->",
    ]
)

# pypiserver: relative links; a file without a hash (hash algorithm set to none)
PYPISERVER_PAGE = """<!DOCTYPE html>
<html>
  <head><title>Links for acme-widget</title></head>
  <body>
    <h1>Links for acme-widget</h1>
    <a href="../../packages/acme_widget-1.0.0.tar.gz">acme_widget-1.0.0.tar.gz</a><br>
  </body>
</html>
"""


@pytest.mark.parametrize(
    ("upload", "configured", "index"),
    [
        ("https://upload.pypi.org/legacy/", None, "https://pypi.org/simple/"),
        ("https://upload.pypi.org/legacy", None, "https://pypi.org/simple/"),
        ("https://test.pypi.org/legacy/", None, "https://test.pypi.org/simple/"),
        ("http://127.0.0.1:8080/", None, "http://127.0.0.1:8080/simple/"),
        ("http://127.0.0.1:8080", None, "http://127.0.0.1:8080/simple/"),
        ("http://127.0.0.1:8080/legacy/", None, "http://127.0.0.1:8080/simple/"),
        ("http://127.0.0.1:8080/legacy", None, "http://127.0.0.1:8080/simple/"),
        ("https://pkgs.example.com/root/legacy/", None, "https://pkgs.example.com/root/simple/"),
        # only a whole `legacy` segment is dropped
        ("https://pkgs.example.com/mylegacy/", None, "https://pkgs.example.com/mylegacy/simple/"),
        (
            "https://upload.pypi.org/legacy/",
            "https://mirror.example.com/simple",
            "https://mirror.example.com/simple/",
        ),
        (
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:9090/simple/",
            "http://127.0.0.1:9090/simple/",
        ),
    ],
)
def test_index_url(upload: str, configured: str | None, index: str) -> None:
    assert index_url(upload, configured) == index


def test_index_from_the_settings() -> None:
    config = Config(pypi=PypiConfig(index_url="https://mirror.example.com/simple"))
    settings = Settings.from_env({"TWINE_REPOSITORY_URL": "http://127.0.0.1:8080"}, config)
    pypi = PyPI.from_config(config, settings)
    assert pypi.upload_url == "http://127.0.0.1:8080/"
    assert pypi.index == "https://mirror.example.com/simple/"
    assert pypi.project_url("Acme.Widget") == "https://mirror.example.com/simple/acme-widget/"


def test_manage_page_for_the_yank_hint() -> None:
    assert PyPI("https://upload.pypi.org/legacy/").manage_page("Acme_Widget", "1.0.0") == (
        "https://pypi.org/manage/project/acme-widget/release/1.0.0/"
    )
    assert PyPI("http://127.0.0.1:8080/").manage_page("acme", "1.0.0") == (
        "http://127.0.0.1:8080/simple/acme/"
    )


def test_names_and_versions_of_files() -> None:
    assert normalize("Acme_Widget.Core") == "acme-widget-core"
    assert file_version("acme_widget-1.0.0-py3-none-any.whl") == "1.0.0"
    assert file_version("acme_widget-1.1.0rc1.tar.gz") == "1.1.0rc1"
    assert file_version("acme-widget-1.0.0.zip") == "1.0.0"
    assert file_version("acme_widget-1.0.0-py3.8.egg") is None


def test_a_pypi_page_with_hashes_and_a_yanked_file() -> None:
    files = parse_simple(PYPI_PAGE, "https://pypi.org/simple/acme-widget/")
    by_name = {f.filename: f for f in files}
    whl = by_name["acme_widget-1.0.0-py3-none-any.whl"]
    assert whl.sha256 == SHA_WHL and whl.version == "1.0.0" and not whl.yanked
    assert whl.url.startswith("https://files.pythonhosted.org/packages/aa/bb/")
    assert "#" not in whl.url
    assert by_name["acme_widget-0.9.0.tar.gz"].yanked


def test_a_pypiserver_page_without_hashes() -> None:
    [sdist] = parse_simple(PYPISERVER_PAGE, "http://127.0.0.1:8080/simple/acme-widget/")
    assert sdist.sha256 is None
    assert sdist.url == "http://127.0.0.1:8080/packages/acme_widget-1.0.0.tar.gz"


def test_read_a_release_its_versions_and_latest(canned: Canned) -> None:
    canned.answer("/simple/acme-widget/", body=PYPI_PAGE, content_type="text/html")
    got = PyPI(canned.url).read("Acme_Widget", "1.0.0")
    assert got.project_exists and got.exists
    assert sorted(f.filename for f in got.release_files) == [
        "acme_widget-1.0.0-py3-none-any.whl",
        "acme_widget-1.0.0.tar.gz",
    ]
    assert got.versions == ("0.9.0", "1.0.0", "1.1.0rc1")
    assert got.latest == "1.0.0"  # the pre-release is newer but not stable
    assert got.url == f"{canned.url}simple/acme-widget/"
    rc = PyPI(canned.url).read("acme-widget", "1.1.0rc1")
    assert [f.filename for f in rc.release_files] == ["acme_widget-1.1.0rc1.tar.gz"]
    assert not PyPI(canned.url).read("acme-widget", "2.0.0").exists


def test_an_unknown_project_and_a_failing_index(canned: Canned) -> None:
    got = PyPI(canned.url).read("nobody-has-this", "1.0.0")
    assert not got.project_exists and not got.exists and got.latest is None
    canned.answer("/simple/acme-widget/", 502, "Bad Gateway", content_type="text/plain")
    with pytest.raises(TransientError) as err:
        PyPI(canned.url).read("acme-widget", "1.0.0")
    assert err.value.status == 502
    with pytest.raises(TransientError):
        PyPI(canned.url).ping("acme-widget")
    PyPI(canned.url).ping("nobody-has-this")  # a 404 is an answer


def test_sha256_of_a_link_without_hash_downloads_the_file(canned: Canned) -> None:
    content = b"not really a tarball\n" * 1000
    canned.answer("/simple/acme-widget/", body=PYPISERVER_PAGE, content_type="text/html")
    canned.answer(
        "/packages/acme_widget-1.0.0.tar.gz", body=content, content_type="application/x-tar"
    )
    pypi = PyPI(canned.url)
    [sdist] = pypi.read("acme-widget", "1.0.0").release_files
    assert pypi.sha256_of(sdist) == hashlib.sha256(content).hexdigest()
    canned.answer("/packages/acme_widget-1.0.0.tar.gz", 403, "no", content_type="text/plain")
    assert pypi.sha256_of(sdist) is None
