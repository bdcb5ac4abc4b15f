"""Notifications reach a real webhook (apprise's json:// form) with what a person needs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipit.config import Config, NotifyConfig, Settings
from shipit.engine.events import ReleaseEvent, StepEvent
from shipit.engine.step import Context, NullProgress, ProbeState
from shipit.project.model import Project
from shipit.redact import known_secrets, redact
from shipit.steps.notify import expand_urls, make_notifier, notify_steps


class Receiver:
    """A local webhook: records every JSON body POSTed to it, can be told to fail."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver.received.append((self.path, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _config(urls: list[str], events: list[str] | None = None) -> Config:
    notify: dict[str, Any] = {"urls": urls, "timeout": 3}
    if events is not None:
        notify["events"] = events
    return Config.model_validate({"notify": notify, "project": {"name": "demo-lib"}})


def _ctx(tmp_path: Path, config: Config, env: dict[str, str], evidence: dict[str, Any]) -> Context:
    project = Project(root=tmp_path, ecosystems=("node",), sources=(), canonical=None)
    return Context(
        root=tmp_path,
        config=config,
        settings=Settings.from_env(env, config),
        project=project,
        version="1.4.0",
        tag="v1.4.0",
        commit="0" * 40,
        release_dir=tmp_path / ".shipit" / "releases" / "v1.4.0",
        env=env,
        evidence_of=lambda step_id: evidence.get(step_id, {}),
    )


def test_step_sends_succeeded_once_with_tag_version_and_urls(
    tmp_path: Path, receiver: Receiver
) -> None:
    env = {"HOOK_PATH": "hooks-s3cr3t-path-771"}
    config = _config([f"json://127.0.0.1:{receiver.port}/${{HOOK_PATH}}"])
    evidence: dict[str, Any] = {
        "github:publish": {"html_url": "http://127.0.0.1:1/o/r/releases/tag/v1.4.0"}
    }
    ctx = _ctx(tmp_path, config, env, evidence)
    [step] = notify_steps(ctx)
    assert step.id == "notify"
    assert step.probe(ctx).state is ProbeState.TODO

    result = step.run(ctx, NullProgress())

    assert len(receiver.received) == 1
    path, payload = receiver.received[0]
    assert path == "/hooks-s3cr3t-path-771"
    assert payload["title"] == "Released demo-lib v1.4.0"
    assert "version 1.4.0" in payload["message"]
    assert "http://127.0.0.1:1/o/r/releases/tag/v1.4.0" in payload["message"]
    assert payload["type"] == "success"
    # the secret from the environment is masked wherever shipit shows the URL
    assert "hooks-s3cr3t-path-771" in known_secrets()
    assert "hooks-s3cr3t-path-771" not in json.dumps(result)
    assert result["sent"] and not result["failed"]
    # with that evidence in the journal, a resume does not announce twice
    evidence["notify"] = result
    assert step.probe(ctx).state is ProbeState.ALREADY_DONE


def test_step_reports_a_failing_webhook_without_failing(tmp_path: Path, receiver: Receiver) -> None:
    receiver.status = 500
    ctx = _ctx(tmp_path, _config([f"json://127.0.0.1:{receiver.port}/hook"]), {}, {})
    [step] = notify_steps(ctx)
    result = step.run(ctx, NullProgress())  # does not raise
    assert result["sent"] == []
    assert len(result["failed"]) == 1
    assert "could not notify" in result["warnings"][0]
    # nothing was sent, so a resume tries again
    assert step.probe(_ctx(tmp_path, ctx.config, {}, {"notify": result})).state is ProbeState.TODO


def test_unreachable_webhook_is_a_warning(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, _config(["json://127.0.0.1:9/hook"]), {}, {})
    [step] = notify_steps(ctx)
    result = step.run(ctx, NullProgress())
    assert result["sent"] == [] and result["warnings"]


def test_missing_variable_skips_the_url_with_a_clear_warning() -> None:
    expanded = expand_urls(["slack://${SLACK_TOKEN_X}/chan", "json://127.0.0.1:9/x"], {})
    assert len(expanded.destinations) == 1
    assert "$SLACK_TOKEN_X not set" in expanded.warnings[0]


def test_no_urls_or_no_succeeded_event_means_no_step(tmp_path: Path) -> None:
    assert notify_steps(_ctx(tmp_path, _config([]), {}, {})) == []
    cfg = _config(["json://127.0.0.1:9/x"], events=["failed"])
    assert notify_steps(_ctx(tmp_path, cfg, {}, {})) == []


def test_listener_sends_started_failed_rolled_back_in_order(receiver: Receiver) -> None:
    env = {"HOOK": "zz-listener-secret-9"}
    config = _config(
        [f"json://127.0.0.1:{receiver.port}/${{HOOK}}"],
        events=["started", "succeeded", "failed", "rolled-back"],
    )
    notifier = make_notifier(config, env)
    notifier(ReleaseEvent("started", tag="v2.0.0", version="2.0.0"))
    notifier(StepEvent("running", "npm:publish"))  # step events are not notifications
    notifier(ReleaseEvent("succeeded", tag="v2.0.0", version="2.0.0"))  # the step's job
    notifier(
        ReleaseEvent(
            "failed",
            tag="v2.0.0",
            version="2.0.0",
            message="npm rejected the token for http://127.0.0.1:4873/: E401",
            failed_step="npm:publish",
            hint="shipit resume",
        )
    )
    notifier(ReleaseEvent("rolled-back", tag="v2.0.0", version="2.0.0"))
    assert notifier.flush(10) == []

    titles = [body["title"] for _, body in receiver.received]
    assert titles == [
        "Releasing demo-lib v2.0.0",
        "Release of demo-lib v2.0.0 failed at npm:publish",
        "Release of demo-lib v2.0.0 rolled back",
    ]
    failed = receiver.received[1][1]
    assert failed["type"] == "failure"
    assert "failed at step npm:publish" in failed["message"]
    assert "E401" in failed["message"]
    assert "Next: shipit resume" in failed["message"]
    assert "v2.0.0 (version 2.0.0)" in failed["message"]


def test_listener_failure_is_reported_never_raised(receiver: Receiver) -> None:
    receiver.status = 503
    notifier = make_notifier(
        _config([f"json://127.0.0.1:{receiver.port}/h"], events=["failed"]), {}
    )
    start = time.monotonic()
    notifier(ReleaseEvent("failed", tag="v1.0.0", version="1.0.0", failed_step="git:push"))
    assert time.monotonic() - start < 0.5  # the release does not wait for the webhook
    warnings = notifier.flush(10)
    assert len(warnings) == 1 and "could not notify" in warnings[0]
    assert "127.0.0.1" in redact(warnings[0])


def test_inactive_notifier_without_urls() -> None:
    notifier = make_notifier(Config(), {})
    assert not notifier.active
    notifier(ReleaseEvent("failed", tag="v1.0.0", version="1.0.0"))
    assert notifier.flush(1) == []


def test_default_events_exclude_started() -> None:
    assert NotifyConfig().events == ["succeeded", "failed", "rolled-back"]


def test_report_warnings_gathers_step_and_listener_failures(receiver: Receiver) -> None:
    from shipit.steps.notify import report_warnings

    receiver.status = 500
    notifier = make_notifier(_config([f"json://127.0.0.1:{receiver.port}/h"], ["failed"]), {})
    notifier(ReleaseEvent("failed", tag="v1.0.0", version="1.0.0"))
    notifier.flush(10)
    warnings = report_warnings({"warnings": ["could not notify slack://…"]}, notifier)
    assert warnings[0] == "could not notify slack://…"
    assert len(warnings) == 2 and "could not notify json://127.0.0.1" in warnings[1]
    assert report_warnings({}, None) == []
