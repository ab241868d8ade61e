"""A bounded background load generator for demos: loopback only, capped in requests and time."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from typing import Any


class LoadGenerator:
    def __init__(
        self, url: str, key: str, body: bytes, max_requests: int = 3000, max_seconds: float = 60
    ) -> None:
        if not url.startswith("http://127.0.0.1:"):
            raise ValueError(f"the load generator only talks to 127.0.0.1, not {url}")
        self.url, self.key, self.body = url, key, body
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.sent = 0
        self.statuses: dict[int, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(3)]

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._lock:
                if self.sent >= self.max_requests:
                    return
                self.sent += 1
            req = urllib.request.Request(
                self.url,
                data=self.body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    status = resp.status
            except urllib.error.HTTPError as err:
                status = err.code
            except OSError:
                status = 0
            with self._lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            time.sleep(0.01)

    def __enter__(self) -> LoadGenerator:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=15)
