#!/usr/bin/env python3
"""A longer fuzz run against a fresh API server than the suite's (tests/integration/api/test_fuzz.py),
with the same request generator. Prints requests sent, answers by class, dropped connections and
every distinct server bug (a 5xx Kubernetes would not give), then whether the server still answers.

    .venv/bin/python hack/fuzz-apiserver.py --requests 14000 [--storage etcd://127.0.0.1:2379]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import requests as http
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.apiserver import ApiServerProcess  # noqa: E402
from tests.fixtures.fuzzing import NAMESPACE, FuzzRequest, is_server_bug, requests  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--storage", default="", help="storage URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    classes: collections.Counter[str] = collections.Counter()
    bugs: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="kp-fuzz-") as tmp:
        server = ApiServerProcess(Path(tmp), args.storage)
        server.start()
        try:
            session = http.Session()
            session.post(f"{server.url}/api/v1/namespaces", timeout=10,
                         json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})

            @settings(max_examples=args.requests, deadline=None, suppress_health_check=list(HealthCheck),
                      database=None)
            @given(req=requests())
            def one(req: FuzzRequest) -> None:
                try:
                    response = session.request(req.method, req.url(server.url), headers=req.headers,
                                               data=req.body, timeout=30)
                except http.RequestException as exc:
                    classes["dropped"] += 1
                    bugs.setdefault(f"dropped: {type(exc).__name__}", req.describe())
                    return
                classes[f"{response.status_code // 100}xx"] += 1
                if is_server_bug(response.status_code, response.content):
                    first = response.content[:160].decode(errors="replace")
                    bugs.setdefault(f"{response.status_code} {first}", req.describe())

            started = time.monotonic()
            one()
            elapsed = time.monotonic() - started
            probe = time.monotonic()
            ready = session.get(f"{server.url}/readyz", timeout=10).status_code
            probe = time.monotonic() - probe
        finally:
            server.stop()
            errors_logged = [line for line in server.log_tail(100000).splitlines()
                             if "Error" in line or "Traceback" in line or "error" in line]
    total = sum(classes.values())
    print(f"requests: {total} in {elapsed:.1f} s ({total / elapsed:.0f}/s)")
    print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
    print(f"server bugs (distinct): {len(bugs)}")
    for answer, request in bugs.items():
        print(f"  {answer}\n    <- {request}")
    print(f"after the run: /readyz {ready} in {probe * 1000:.0f} ms")
    print(f"server log error lines: {len(errors_logged)}")
    for line in errors_logged[:20]:
        print(f"  {line[:300]}")
    return 1 if bugs else 0


if __name__ == "__main__":
    raise SystemExit(main())
