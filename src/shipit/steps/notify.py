"""Notifications: tell people a release started, succeeded, failed or was rolled back.

``[notify]`` lists apprise URLs (Slack, Discord, Teams, email, JSON webhooks, ...) in which
``${VAR}`` is replaced from the environment; those values are secrets and are registered with
``shipit.redact``. Two entry points:

- ``notify_steps(ctx)``: the plan's last step, ``notify``, which sends ``succeeded`` once the
  release is complete. Its probe is TODO unless the journal says it was already sent, so a
  resume never announces twice. It never fails a release: failures end up in its evidence.
- ``make_notifier(config, env)``: a ``Listener`` that sends ``started``, ``failed`` (with the
  failing step and the hint) and ``rolled-back`` as configured. Sends run in the background,
  in order, and are reported (``warnings``, the ``shipit.notify`` logger), never raised.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shipit.config import Config, NotifyConfig
from shipit.engine.events import Event, ReleaseEvent
from shipit.engine.step import Context, Evidence, Probe, Progress, Step, Undo
from shipit.redact import redact, register

log = logging.getLogger("shipit.notify")

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

#: Steps whose evidence may carry public URLs worth putting in a notification.
_URL_STEPS = ("npm:publish", "jsr:publish", "pypi:publish", "github:publish")


@dataclass(frozen=True)
class Destination:
    """One expanded apprise URL and how to name it without its secrets."""

    url: str
    shown: str


@dataclass(frozen=True)
class Expanded:
    destinations: tuple[Destination, ...]
    warnings: tuple[str, ...]


def url_variables(urls: Sequence[str]) -> list[str]:
    """The environment variables the URLs name as ``${VAR}``, in order, each once."""
    names: list[str] = []
    for raw in urls:
        names.extend(n for n in _VAR.findall(raw) if n not in names)
    return names


def expand_urls(urls: Sequence[str], env: Mapping[str, str]) -> Expanded:
    """Replace ``${VAR}`` in each URL from ``env``; register the values as secrets.

    A URL naming a variable that is not set is left out with a warning (never an error: a
    notification must not stop a release).
    """
    destinations: list[Destination] = []
    warnings: list[str] = []
    for index, raw in enumerate(urls, start=1):
        missing = [name for name in _VAR.findall(raw) if not env.get(name)]
        if missing:
            names = ", ".join(f"${name}" for name in missing)
            warnings.append(
                f"notify URL #{index} skipped: {names} not set in the environment "
                f"(export it, or remove the URL from [notify] urls)"
            )
            continue
        values = [env[name] for name in _VAR.findall(raw)]
        register(*values)
        url = _VAR.sub(lambda m: env[m.group(1)], raw)
        destinations.append(Destination(url=url, shown=_shown(url, index)))
    return Expanded(tuple(destinations), tuple(warnings))


def _shown(url: str, index: int) -> str:
    """The URL as apprise prints it with privacy on (secrets masked), redacted again."""
    import apprise  # imported only when notifications are configured (~0.1 s)

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"#{index} ({scheme}://…)"
    return redact(str(plugin.url(privacy=True)))  # type: ignore[no-untyped-call]


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    notify_type: str  # apprise.NotifyType value: info, success, failure, warning


#: release event -> (title, first line, apprise notify type); {release} is ``project v1.2.3``,
#: {what} adds the version, {step} is the failed step
_WORDING = {
    "started": ("Releasing {release}", "shipit started the release of {what}.", "info"),
    "succeeded": ("Released {release}", "shipit released {what}.", "success"),
    "failed": (
        "Release of {release} failed at {step}",
        "The release of {what} failed at step {step}.",
        "failure",
    ),
    "rolled-back": (
        "Release of {release} rolled back",
        "The release of {what} was rolled back.",
        "warning",
    ),
    "interrupted": (
        "Release of {release} interrupted",
        "The release of {what} was interrupted.",
        "warning",
    ),
}


def message_for(
    event: ReleaseEvent, project: str | None = None, urls: Sequence[str] = ()
) -> Message:
    """The title and body a person receives for ``event``."""
    name = f"{project} " if project else ""
    title, first, notify_type = _WORDING.get(event.kind, _WORDING["interrupted"])
    words = {
        "release": f"{name}{event.tag}",
        "what": f"{name}{event.tag} (version {event.version})",
        "step": event.failed_step or "a step",
    }
    title = title.format(**words)
    lines = [first.format(**words)]
    if event.message:
        lines.append(event.message)
    if event.hint:
        lines.append(f"Next: {event.hint}")
    if urls:
        lines.append("Published:")
        lines.extend(f"- {u}" for u in urls)
    return Message(redact(title), redact("\n".join(lines)), notify_type)


# ---------------------------------------------------------------- sending


@dataclass
class SendResult:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def send(
    destinations: Sequence[Destination], message: Message, timeout: float = 15.0
) -> SendResult:
    """Send ``message`` to each destination on its own; report, never raise."""
    import apprise

    result = SendResult()
    for dest in destinations:
        try:
            plugin = apprise.Apprise.instantiate(dest.url)
            if plugin is None:
                result.failed.append(dest.shown)
                result.warnings.append(
                    f"notify URL {dest.shown} is not a URL apprise understands "
                    "(see https://github.com/caronc/apprise/wiki)"
                )
                continue
            plugin.socket_connect_timeout = timeout
            plugin.socket_read_timeout = timeout
            start = time.monotonic()
            ok = bool(
                plugin.notify(
                    body=message.body, title=message.title, notify_type=message.notify_type
                )
            )
            took = (time.monotonic() - start) * 1000
            if ok:
                result.sent.append(dest.shown)
                log.info("notified %s (%.0f ms): %s", dest.shown, took, message.title)
            else:
                result.failed.append(dest.shown)
                result.warnings.append(
                    f"could not notify {dest.shown}: the service refused or did not answer "
                    "(run with -v for apprise's reason)"
                )
        except Exception as exc:  # a notification must never break a release
            result.failed.append(dest.shown)
            result.warnings.append(
                f"could not notify {dest.shown}: {type(exc).__name__}: {redact(str(exc))}"
            )
    for warning in result.warnings:
        log.warning("%s", warning)
    return result


def _published_urls(ctx: Context) -> list[str]:
    urls: list[str] = []
    for step_id in _URL_STEPS:
        evidence = ctx.evidence_of(step_id) or {}
        for key, value in evidence.items():
            is_url = "url" in key and isinstance(value, str) and value.startswith("http")
            if is_url and value not in urls:
                urls.append(value)
    return urls


# ---------------------------------------------------------------- the step


class NotifyStep:
    """The ``notify`` step: announce the finished release once. Never fails the release."""

    id = "notify"
    needs: tuple[str, ...] = ()
    reversible = False

    def __init__(self, config: NotifyConfig, destinations: Expanded) -> None:
        self._config = config
        self._expanded = destinations

    def describe(self, ctx: Context) -> str:
        shown = ", ".join(d.shown for d in self._expanded.destinations) or "nobody"
        return f"notify {shown} that {ctx.tag} is released"

    def probe(self, ctx: Context) -> Probe:
        evidence = ctx.evidence_of(self.id) or {}
        sent = evidence.get("sent")
        if isinstance(sent, list) and sent:
            return Probe.already_done(evidence, why=f"already sent to {', '.join(map(str, sent))}")
        return Probe.todo("notifications are only known from the journal")

    def run(self, ctx: Context, progress: Progress) -> Evidence:
        name = ctx.project.name or ctx.config.project.name
        event = ReleaseEvent("succeeded", tag=ctx.tag, version=ctx.version)
        message = message_for(event, name, _published_urls(ctx))
        count = len(self._expanded.destinations)
        progress.status(f"sending to {count} destination{'s' if count != 1 else ''}")
        if ctx.dry_run:
            return {"sent": [], "failed": [], "warnings": [], "dry_run": True}
        result = send(self._expanded.destinations, message, self._config.timeout)
        warnings = [*self._expanded.warnings, *result.warnings]
        for warning in warnings:
            progress.log(f"warning: {warning}")
        return {
            "sent": result.sent,
            "failed": result.failed,
            "warnings": warnings,
            "title": message.title,
        }

    def undo(self, ctx: Context) -> Undo:
        return Undo.nothing("a sent notification cannot be taken back")


def notify_steps(ctx: Context) -> list[Step]:
    """The ``notify`` step when ``[notify]`` has URLs and ``succeeded`` is one of its events."""
    cfg = ctx.config.notify
    if not cfg.urls or "succeeded" not in cfg.events:
        return []
    return [NotifyStep(cfg, expand_urls(cfg.urls, ctx.env))]


# ---------------------------------------------------------------- the listener


class Notifier:
    """A Listener sending the configured release events (not ``succeeded``: the step does).

    Each send runs in its own thread, after the previous one finished, so people receive
    events in order and the release never waits for a slow webhook. ``flush`` waits for all;
    ``warnings`` lists every failure to notify (also logged to ``shipit.notify``).
    """

    def __init__(
        self,
        config: NotifyConfig,
        env: Mapping[str, str],
        project_name: str | None = None,
    ) -> None:
        self._config = config
        self._expanded = expand_urls(config.urls, env)
        self._project = project_name
        self._events = {e for e in config.events if e != "succeeded"}
        self._lock = threading.Lock()
        self._last: threading.Thread | None = None
        self.warnings: list[str] = list(self._expanded.warnings)
        self.sent: list[tuple[str, list[str]]] = []
        for warning in self._expanded.warnings:
            log.warning("%s", warning)

    @property
    def active(self) -> bool:
        return bool(self._expanded.destinations and self._events)

    def __call__(self, event: Event) -> None:
        try:
            if not isinstance(event, ReleaseEvent) or event.kind not in self._events:
                return
            if not self._expanded.destinations:
                return
            message = message_for(event, self._project)
            with self._lock:
                previous = self._last
                thread = threading.Thread(
                    target=self._send, args=(previous, event.kind, message), name="shipit-notify"
                )
                self._last = thread
                thread.start()
        except Exception as exc:  # a listener must never raise
            self.warnings.append(f"notification of {getattr(event, 'kind', '?')} failed: {exc}")

    def _send(self, previous: threading.Thread | None, kind: str, message: Message) -> None:
        if previous is not None:
            previous.join()
        result = send(self._expanded.destinations, message, self._config.timeout)
        with self._lock:
            self.warnings.extend(result.warnings)
            self.sent.append((kind, result.sent))

    def flush(self, timeout: float | None = None) -> list[str]:
        """Wait until every notification is sent (or failed); return the warnings."""
        with self._lock:
            last = self._last
        if last is not None:
            last.join(timeout)
        with self._lock:
            return list(self.warnings)


def make_notifier(
    config: Config, env: Mapping[str, str], project_name: str | None = None
) -> Notifier:
    """The release listener for ``[notify]`` (inactive, and harmless, when it has no URLs)."""
    return Notifier(config.notify, env, project_name or config.project.name)


def report_warnings(notify_evidence: Mapping[str, object], notifier: Notifier | None) -> list[str]:
    """Every failure to notify during a run, for the release report (step and listener)."""
    found: list[str] = []
    step_warnings = notify_evidence.get("warnings")
    if isinstance(step_warnings, list):
        found.extend(str(w) for w in step_warnings)
    if notifier is not None:
        found.extend(w for w in notifier.flush(0) if w not in found)
    return [redact(w) for w in found]
