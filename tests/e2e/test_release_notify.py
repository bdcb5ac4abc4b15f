"""`[notify]` through the real CLI: a failed release and its rollback reach a local webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shipit.sandbox.git_remote import GitRepo

from .releasehelp import POST_NEEDS_FLAG, Project, make_project


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            bodies.append(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook", bodies
    server.shutdown()
    server.server_close()


def test_failed_release_and_rollback_are_announced(
    git_repo: GitRepo, tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = webhook
    project: Project = make_project(git_repo, tmp_path, post=POST_NEEDS_FLAG)
    toml = (project.path / "shipit.toml").read_text()
    git_repo.commit(
        "notify",
        {
            "shipit.toml": toml
            + f'\n[notify]\nurls = ["{url}"]\nevents = ["failed", "rolled-back"]\n'
        },
    )
    git_repo.push()
    failed = project.shipit("release", "--yes", "--skip-checks")
    assert failed.returncode == 3, failed.stderr
    assert len(bodies) == 1, bodies
    assert "failed" in bodies[0]["title"].lower() and "v1.2.3" in bodies[0]["title"]
    assert "command:post" in bodies[0]["message"]
    rolled = project.shipit("rollback", "--yes")
    # the `pre` command has no undo: partly rolled back (exit 1), and said so
    assert rolled.returncode == 1, rolled.stderr
    assert "partly-rolled-back" in rolled.stderr
    assert len(bodies) == 2, bodies
    assert "rolled back" in bodies[1]["title"].lower(), bodies[1]
    assert project.remote_tags() == []
