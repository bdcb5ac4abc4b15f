"""Benchmark: stream a 1 GiB asset to the sandbox GitHub server with shipit, next to curl.

Starts the GitHub test server, creates a draft release, then alternates uploads of the same
generated 1 GiB file (random bytes, in a temp dir) by shipit's client
(``shipit.registries.github``, in a child process so its peak RSS is its own) and by
``curl -T file -X POST`` (streaming; never ``--data-binary @file``, which reads the whole file
into memory). Each asset is deleted after its upload. Prints medians of throughput, the
ratio shipit/curl and shipit's peak RSS.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--runs 3]
Targets: shipit >= 80% of curl's throughput, peak RSS < 100 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shipit.registries.github import GitHub, strip_template
from shipit.sandbox import process
from shipit.sandbox.servers import new_github_token, start_github

REPO = "bench/upload"

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from shipit.registries.github import GitHub
url, repo, release_json, path = sys.argv[1:5]
token = os.environ["SHIPIT_BENCH_TOKEN"]
release = json.loads(release_json)
with GitHub(api_url=url, token=token, repository=repo) as gh:
    start = time.perf_counter()
    asset = gh.upload_asset(release, Path(path), name="shipit-" + str(time.time_ns()))
    took = time.perf_counter() - start
rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": took, "asset": asset["id"], "size": asset["size"],
                  "rss_mb": rss_kib / 1024}))
"""


def make_file(path: Path, size: int) -> None:
    chunk = os.urandom(1024 * 1024)
    with path.open("wb") as fh:
        written = 0
        while written < size:
            n = min(len(chunk), size - written)
            fh.write(chunk[:n])
            written += n


def shipit_upload(url: str, token: str, release: dict[str, object], path: Path) -> dict[str, float]:
    env = {**os.environ, "SHIPIT_BENCH_TOKEN": token}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, REPO, json.dumps(release), str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def curl_upload(
    upload_url: str, header_file: Path, path: Path, name: str
) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--fail",
            "-X",
            "POST",
            "-H",
            f"@{header_file}",
            "-H",
            "Content-Type: application/octet-stream",
            "-H",
            "Expect:",  # no 1 s wait for "100 Continue": a fair comparison
            "-T",
            str(path),
            f"{upload_url}?name={name}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    asset: dict[str, object] = json.loads(out.stdout)
    return took, asset


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="shipit-bench-upload-") as tmp_name:
        tmp = Path(tmp_name)
        token = new_github_token()
        server = start_github(tmp / "gh", token=token, repo=REPO)
        try:
            data = tmp / "asset.bin"
            print(f"generating {args.size_mib} MiB of random bytes ...", flush=True)
            make_file(data, size)
            header_file = tmp / "headers"
            fd = os.open(header_file, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"Authorization: Bearer {token}\n")
            with GitHub(api_url=server.url, token=token, repository=REPO) as gh:
                release = gh.create_release(tag_name="v0.0.0-bench", draft=True)
                upload_url = strip_template(str(release["upload_url"]))
                ours: list[float] = []
                theirs: list[float] = []
                rss: list[float] = []
                for run in range(args.runs):
                    took, asset = curl_upload(upload_url, header_file, data, f"curl-{run}")
                    assert asset["size"] == size, asset
                    theirs.append(size / took / 1e6)
                    gh.delete_asset(int(str(asset["id"])))
                    result = shipit_upload(server.url, token, release, data)
                    assert result["size"] == size, result
                    ours.append(size / result["seconds"] / 1e6)
                    rss.append(result["rss_mb"])
                    gh.delete_asset(int(result["asset"]))
                    print(
                        f"run {run + 1}: curl {theirs[-1]:7.1f} MB/s   shipit {ours[-1]:7.1f} MB/s"
                        f"   shipit peak RSS {rss[-1]:.1f} MB",
                        flush=True,
                    )
            curl_med = statistics.median(theirs)
            ours_med = statistics.median(ours)
            print()
            print(f"file: {args.size_mib} MiB, {args.runs} runs each, medians")
            print(f"curl -T       {curl_med:8.1f} MB/s")
            print(f"shipit        {ours_med:8.1f} MB/s   ({ours_med / curl_med:.0%} of curl)")
            print(f"shipit peak RSS {max(rss):.1f} MB (max over runs)")
            ok = ours_med >= 0.8 * curl_med and max(rss) < 100
            print("targets (>= 80% of curl, RSS < 100 MB):", "met" if ok else "NOT met")
            return 0 if ok else 1
        finally:
            process.stop(server.process.pid)


if __name__ == "__main__":
    sys.exit(main())
