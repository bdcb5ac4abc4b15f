"""PyPI and every index that speaks its simple API (TestPyPI, pypiserver, devpi, mirrors).

Uploads go through twine (``shipit.steps.pypi``); this adapter reads. ``index_url`` is the one
place that derives the read URL from the upload URL. ``PyPI.read(name, version)`` reads the
project's simple page (``{index}{normalized-name}/``, PEP 503; links may carry
``#sha256=<hex>`` and ``data-yanked``) into one ``PypiRelease``: every file the index lists,
with the version each filename names. ``sha256_of`` downloads a file whose link has no hash,
streaming. The simple API is public: no token is sent.

Trusted publishing (warehouse's ``oidc/views.py``, pypa/gh-action-pypi-publish): ``oidc_token``
asks the index for its audience (``GET <origin>/_/oidc/audience``), gets the job's ID token for
it and exchanges it (``POST <origin>/_/oidc/mint-token``) for an API token that lives 15
minutes; any index that implements these endpoints will do. A refusal is explained from
warehouse's error codes (``invalid-publisher``: no trusted publisher matches this job).

``upload_auth`` says which user and password twine gets (``PYPI_TOKEN``, ``TWINE_PASSWORD``
or the upload URL's own ``user:password@``) and the upload URL without them. ``verify_upload_auth``
tells a good token from a bad one without uploading anything: a POST of the legacy upload
API with the credentials and an incomplete form. Warehouse (``forklift/legacy.py``) checks
the identity first (``ensure_uploads_allowed``: none -> 403 "Invalid or non-existent
authentication information") and only then the form (``protocol_version`` other than 1 ->
400 "Unknown protocol version."); pypiserver checks the password first (403, or 401 without
one) and then the missing file (400). So 400 means "authenticated", 401/403 "refused", and
nothing is created either way: the form stops before any project lookup.
"""

from __future__ import annotations

import html.parser
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from shipit import http, oidc
from shipit.config import Config, Settings
from shipit.errors import OidcError, OidcNotTrusted, OidcTokenInvalid, PermanentError
from shipit.hashing import sha256_chunks
from shipit.redact import redact, register, split_userinfo
from shipit.registries._http import get, json_dict, send, status_error, transport_error

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
_KNOWN_INDEXES = {
    "upload.pypi.org": "https://pypi.org/simple/",
    "test.pypi.org": "https://test.pypi.org/simple/",
}
_MANAGE_HOSTS = {"upload.pypi.org": "pypi.org", "test.pypi.org": "test.pypi.org"}


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def normalize(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def index_url(upload_url: str, configured: str | None = None) -> str:
    """Where to read what an upload URL holds: ``[pypi] index-url`` when set; PyPI's and
    TestPyPI's simple index for their upload URLs; otherwise ``simple/`` beside the upload
    path, whose last segment ``legacy/`` is dropped (pypiserver and devpi serve both on one
    root: ``http://host:P/`` and ``http://host:P/legacy/`` both read ``http://host:P/simple/``).
    """
    if configured:
        return _slash(configured)
    parts = urlsplit(upload_url)
    known = _KNOWN_INDEXES.get(parts.hostname or "")
    if known is not None:
        return known
    path = _slash(parts.path or "/")
    if path.endswith("/legacy/"):
        path = path[: -len("legacy/")]
    return f"{parts.scheme}://{parts.netloc}{path}simple/"


def file_version(filename: str) -> str | None:
    """The version a wheel or sdist filename names (PEP 440 normal form), else None."""
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def _canonical(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


@dataclass(frozen=True)
class IndexFile:
    """One link of a simple page."""

    filename: str
    url: str
    sha256: str | None  # from ``#sha256=``; None when the link has none
    version: str | None  # what the filename names (None: not a wheel or sdist)
    yanked: bool = False


@dataclass(frozen=True)
class PypiRelease:
    """What the index holds for ``name``: every file, and those of ``version``."""

    name: str
    version: str  # as asked (PEP 440)
    index: str
    project_exists: bool
    files: tuple[IndexFile, ...] = ()  # every file of the project

    @property
    def url(self) -> str:
        return f"{self.index}{normalize(self.name)}/"

    def file(self, filename: str) -> IndexFile | None:
        return next((f for f in self.files if f.filename == filename), None)

    @property
    def release_files(self) -> tuple[IndexFile, ...]:
        """The files of ``version``."""
        want = _canonical(self.version)
        return tuple(f for f in self.files if f.version is not None and f.version == want)

    @property
    def exists(self) -> bool:
        return bool(self.release_files)

    @property
    def versions(self) -> tuple[str, ...]:
        """Every version with a file, lowest first."""
        found = {Version(f.version) for f in self.files if f.version is not None}
        return tuple(str(v) for v in sorted(found))

    @property
    def latest(self) -> str | None:
        """The highest stable version, else the highest of all."""
        found = [Version(v) for v in self.versions]
        stable = [v for v in found if not v.is_prerelease]
        return str(max(stable or found)) if found else None


@dataclass(frozen=True)
class UploadAuth:
    """What twine authenticates with: the upload URL without credentials, the user name and
    the password (None: there is none), and where the password came from (for messages)."""

    url: str
    username: str
    password: str | None
    source: str

    def env(self) -> dict[str, str]:
        """``TWINE_USERNAME``/``TWINE_PASSWORD`` for twine's environment (never argv)."""
        out = {"TWINE_USERNAME": self.username}
        if self.password:
            out["TWINE_PASSWORD"] = self.password
        return out


def upload_auth(settings: Settings, env: Mapping[str, str]) -> UploadAuth:
    """``PYPI_TOKEN`` (user ``__token__``), else ``TWINE_PASSWORD`` (user ``TWINE_USERNAME``,
    the URL's user or ``__token__``), else the upload URL's ``user:password@``."""
    url, url_user, url_password = split_userinfo(settings.pypi_upload_url)
    register(url_password)
    if env.get("PYPI_TOKEN"):
        return UploadAuth(url, "__token__", env["PYPI_TOKEN"], "PYPI_TOKEN")
    user = env.get("TWINE_USERNAME") or url_user or "__token__"
    if env.get("TWINE_PASSWORD"):
        return UploadAuth(url, user, env["TWINE_PASSWORD"], "TWINE_PASSWORD")
    if url_password:
        return UploadAuth(url, user, url_password, "the password in the upload URL")
    if settings.pypi_token:  # set by other means than these variables
        return UploadAuth(url, user, settings.pypi_token, "the PyPI token")
    return UploadAuth(url, user, None, "")


@dataclass(frozen=True)
class AuthAnswer:
    """The upload endpoint's answer to credentials: accepted or not, and its words."""

    accepted: bool
    status: int
    message: str


def _words(response: httpx.Response) -> str:
    """The server's own reason: warehouse puts it in the reason phrase, pypiserver in a
    ``<pre>`` of its HTML page."""
    found = re.search(r"<pre>(.*?)</pre>", response.text, re.S)
    text = found.group(1) if found else ""
    text = html.unescape(" ".join(text.split()))
    if text == "None":  # pypiserver's page for a bare 403
        text = ""
    reason = response.reason_phrase or ""
    generic = reason in ("", "Bad Request", "Forbidden", "Unauthorized")
    return (text if generic and text else reason)[:200]


class _Links(html.parser.HTMLParser):
    """The anchors of a simple page: (href, text, yanked)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, bool]] = []
        self._open: tuple[str, bool] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            found = dict(attrs)
            self._open = (found.get("href") or "", "data-yanked" in found)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            href, yanked = self._open
            self.links.append((href, "".join(self._text).strip(), yanked))
            self._open = None


def parse_simple(page: str, base_url: str) -> tuple[IndexFile, ...]:
    """A PEP 503 project page as its files (filename from the link's path, else its text)."""
    parser = _Links()
    parser.feed(page)
    parser.close()
    files: dict[str, IndexFile] = {}
    for href, text, yanked in parser.links:
        target, _, fragment = href.partition("#")
        filename = unquote(target.rsplit("/", 1)[-1]) or text
        if not filename:
            continue
        digest = None
        if fragment.startswith("sha256="):
            digest = fragment[len("sha256=") :].lower() or None
        files[filename] = IndexFile(
            filename=filename,
            url=urljoin(base_url, target),
            sha256=digest,
            version=file_version(filename),
            yanked=yanked,
        )
    return tuple(files.values())


class PyPI:
    """One package index: where twine uploads and where the simple API reads."""

    def __init__(
        self, upload_url: str, index: str | None = None, *, timeout: float | None = None
    ) -> None:
        self.upload_url = _slash(upload_url)
        self.index = index_url(self.upload_url, index)
        self.timeout = timeout

    @classmethod
    def from_config(
        cls, config: Config, settings: Settings, *, timeout: float | None = None
    ) -> PyPI:
        return cls(settings.pypi_upload_url, config.pypi.index_url, timeout=timeout)

    def project_url(self, name: str) -> str:
        return f"{self.index}{normalize(name)}/"

    def manage_page(self, name: str, version: str) -> str:
        """A page a person opens to yank the release (PyPI's web UI; the index page
        elsewhere)."""
        host = _MANAGE_HOSTS.get(urlsplit(self.upload_url).hostname or "")
        if host is not None:
            return f"https://{host}/manage/project/{normalize(name)}/release/{version}/"
        return self.project_url(name)

    def read(self, name: str, version: str) -> PypiRelease:
        """The project's simple page; a 404 is "the index does not know the project"."""
        url = self.project_url(name)
        what = f"cannot read {name} from the package index {self.index}"
        with http.client(headers={"Accept": "text/html"}, timeout=self.timeout) as c:
            response = get(c, url, what)
        if response.status_code == 404:
            return PypiRelease(name, version, self.index, project_exists=False)
        if response.status_code != 200:
            raise status_error(response, what)
        files = parse_simple(response.text, str(response.url))
        return PypiRelease(name, version, self.index, project_exists=True, files=files)

    def sha256_of(self, file: IndexFile) -> str | None:
        """The file's sha256: from its link, else by downloading it (streamed); None when
        the download is refused."""
        if file.sha256:
            return file.sha256
        what = f"cannot download {file.filename} to compare it"
        with http.client(timeout=self.timeout) as c:
            try:
                with c.stream("GET", file.url) as response:
                    if response.status_code != 200:
                        return None
                    return sha256_chunks(response.iter_bytes())
            except httpx.HTTPError as exc:
                raise transport_error(exc, what) from exc

    def verify_upload_auth(self, username: str, password: str) -> AuthAnswer:
        """Ask the upload endpoint whether it takes these credentials, uploading nothing (see
        the module's docstring). 400 (and any 2xx) is accepted, 401/403 refused; no answer
        or a 5xx raises ``TransientError``, any other answer the classified error."""
        register(password)
        url, _, _ = split_userinfo(self.upload_url)
        what = f"cannot ask {url} whether it accepts the PyPI token"
        form = {":action": (None, "file_upload"), "protocol_version": (None, "0")}
        with http.client(timeout=self.timeout) as c:
            try:
                response = c.post(url, files=form, auth=(username, password))
            except httpx.HTTPError as exc:
                raise transport_error(exc, what) from exc
        status = response.status_code
        if status in (401, 403):
            return AuthAnswer(False, status, redact(_words(response)))
        if status == 400 or 200 <= status < 300:
            return AuthAnswer(True, status, redact(_words(response)))
        raise status_error(response, what)

    def ping(self, name: str) -> None:
        """The index answers for this project: any answer below 500 will do (a 404 or a 401
        of a private index is an answer); no answer or a 5xx raises ``TransientError``."""
        what = f"the package index {self.index} does not answer"
        with http.client(headers={"Accept": "text/html"}, timeout=self.timeout) as c:
            response = get(c, self.project_url(name), what)
        if response.status_code >= 500:
            raise status_error(response, what)

    # --- trusted publishing -----------------------------------------------------------------

    @property
    def oidc_base(self) -> str:
        """Where the index's OIDC endpoints live: the upload URL's origin (as pypa's action
        derives them; upload.pypi.org serves them like pypi.org)."""
        parts = urlsplit(self.upload_url)
        return f"{parts.scheme}://{parts.netloc}/_/oidc/"

    def oidc_audience(self) -> str:
        """The audience the index wants ID tokens for (``pypi`` on pypi.org)."""
        what = f"cannot ask {self.oidc_base} for its trusted-publishing audience"
        with http.client(headers={"Accept": "application/json"}, timeout=self.timeout) as c:
            response = get(c, self.oidc_base + "audience", what)
        if response.status_code in (403, 404, 405):
            raise OidcError(
                f"the package index at {self.upload_url} does not offer trusted publishing",
                why=f"{self.oidc_base}audience answered {response.status_code}: "
                f"{http.message_of(response)}",
                hint='set PYPI_TOKEN (and [pypi] auth = "token"), or publish to an index with '
                "trusted publishing (pypi.org, test.pypi.org)",
            )
        if response.status_code != 200:
            raise status_error(response, what)
        audience = json_dict(response, what).get("audience")
        if not isinstance(audience, str) or not audience:
            raise OidcError(
                f"the package index at {self.upload_url} named no trusted-publishing audience",
                why=f"{self.oidc_base}audience answered without `audience`",
                hint="check TWINE_REPOSITORY_URL / [pypi] repository-url",
            )
        return audience

    def mint_token(self, id_token: oidc.IdToken) -> str:
        """The short-lived API token the index mints for the job's ID token."""
        what = f"cannot exchange the job's ID token at {self.oidc_base}mint-token"
        with http.client(headers={"Accept": "application/json"}, timeout=self.timeout) as c:
            response = send(
                c, "POST", self.oidc_base + "mint-token", what, json_body={"token": id_token.raw}
            )
        try:
            body = response.json() if response.content else {}
        except ValueError:  # an error page
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code == 200 and isinstance(body.get("token"), str) and body["token"]:
            token = str(body["token"])
            register(token)
            return token
        errors = body.get("errors") if isinstance(body.get("errors"), list) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        code, description = str(first.get("code", "")), str(first.get("description", ""))
        why = f"{self.oidc_base}mint-token answered {response.status_code}" + (
            f" ({code}): {description}" if code else f": {http.message_of(response)}"
        )
        if code == "invalid-publisher":
            workflow = id_token.workflow or "<workflow file>"
            environment = id_token.environment or "(none)"
            raise OidcNotTrusted(
                f"PyPI does not trust {id_token.identity()} to publish",
                why=why,
                hint=f"add a trusted publisher on {self._site()} (the project's Publishing "
                "settings, or a pending publisher for a new project): owner "
                f"{(id_token.repository or '<owner>/').split('/')[0]}, repository "
                f"{(id_token.repository or '/<repo>').split('/')[-1]}, workflow {workflow}, "
                f"environment {environment}; then `shipit check --only registry`",
            )
        if code == "invalid-token":
            raise OidcTokenInvalid(
                "PyPI rejected the job's ID token as invalid",
                why=why,
                hint="re-run the job; if it persists, check that TWINE_REPOSITORY_URL is the "
                "real index, then `shipit check --only registry`",
            )
        if code == "not-enabled":
            raise OidcError(
                f"{self._site()} has trusted publishing turned off",
                why=why,
                hint='set PYPI_TOKEN and [pypi] auth = "token" until it is back',
            )
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise status_error(response, what)
        raise PermanentError(
            "the package index refused to mint a token for the job's ID token",
            why=why,
            hint="check TWINE_REPOSITORY_URL / [pypi] repository-url, then "
            "`shipit check --only registry`",
        )

    def _site(self) -> str:
        host = urlsplit(self.upload_url).hostname or ""
        return _MANAGE_HOSTS.get(host, host)

    def oidc_token(self, env: Mapping[str, str]) -> str:
        """An upload token by trusted publishing: audience, ID token, exchange."""
        return self.mint_token(oidc.fetch(self.oidc_audience(), env))
