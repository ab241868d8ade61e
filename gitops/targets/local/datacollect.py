"""Write collected model inputs/outputs as JSON lines, one file per endpoint/deployment/collection/day.

Layout under the state directory (mirrors the ``modelDataCollector/<endpoint>/<deployment>/<collection>/
YYYY/MM/DD`` folders Azure writes to the workspace blob store)::

    data_collection/<endpoint>/<deployment>/<collection>/YYYY/MM/DD/data.jsonl

Each line: ``{"id", "time", "correlationid", "endpoint", "deployment", "collection",
"datacontenttype", "data"}``; ``correlationid`` joins an input to its output. Writing happens on a
background thread so scoring latency does not include disk I/O.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


def collection_file(root: Path, endpoint: str, deployment: str, collection: str, when: datetime) -> Path:
    return (
        root / endpoint / deployment / collection / f"{when:%Y}" / f"{when:%m}" / f"{when:%d}" / "data.jsonl"
    )


def decode_payload(body: bytes, content_type: str | None) -> Any:
    if content_type is None or "json" in content_type:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            pass
    return body.decode("utf-8", "replace")


class CollectorWriter:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._q: queue.Queue[tuple[str, str, str, str, Any, str] | None] = queue.Queue(maxsize=10_000)
        self.dropped = 0
        self.written = 0
        # One open file per (endpoint, deployment, collection); replaced when the day changes.
        self._files: dict[tuple[str, str, str], tuple[Path, TextIO]] = {}
        self._thread = threading.Thread(target=self._run, name="data-collector", daemon=True)
        self._thread.start()

    def collect(
        self,
        endpoint: str,
        deployment: str,
        collection: str,
        correlation_id: str,
        *,
        data: Any,
        content_type: str,
    ) -> None:
        try:
            self._q.put_nowait((endpoint, deployment, collection, correlation_id, data, content_type))
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = 5.0) -> None:
        self._q.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._q.get()
            batch = [item]
            # Drain what is queued so one flush covers a burst of requests.
            while item is not None and not self._q.empty():
                item = self._q.get_nowait()
                batch.append(item)
            touched: set[TextIO] = set()
            for rec in batch:
                if rec is None:
                    continue
                touched.add(self._write(rec))
            for fh in touched:
                fh.flush()
            if None in batch:
                for _, fh in self._files.values():
                    fh.close()
                self._files.clear()
                return

    def _write(self, rec: tuple[str, str, str, str, Any, str]) -> TextIO:
        endpoint, deployment, collection, cid, data, ctype = rec
        now = datetime.now(UTC)
        path = collection_file(self.root, endpoint, deployment, collection, now)
        key = (endpoint, deployment, collection)
        current = self._files.get(key)
        if current is not None and current[0] == path:
            fh = current[1]
        else:
            if current is not None:
                current[1].close()
            path.parent.mkdir(parents=True, exist_ok=True)
            # Kept open across requests (closed when the day's file changes and in close()), so a
            # context manager cannot scope it.
            fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lifetime spans many requests
            self._files[key] = (path, fh)
        record = {
            "id": str(uuid.uuid4()),
            "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "correlationid": cid,
            "endpoint": endpoint,
            "deployment": deployment,
            "collection": collection,
            "datacontenttype": ctype,
            "data": data,
        }
        fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        self.written += 1
        return fh


def read_collected(root: Path, endpoint: str, deployment: str, collection: str) -> list[dict[str, Any]]:
    """All records of one collection, oldest day first (used by tests and monitors)."""
    base = root / endpoint / deployment / collection
    out: list[dict[str, Any]] = []
    for f in sorted(base.glob("*/*/*/data.jsonl")):
        with open(f, encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh if line.strip())
    return out
