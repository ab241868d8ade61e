"""The local target's state: one SQLite database per environment under the state directory.

The router processes read the same database (read-only) when they start and whenever the engine
signals a change, so everything they need to route a request lives here: ports, traffic, keys.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS endpoints (
    name         TEXT PRIMARY KEY,
    auth_mode    TEXT NOT NULL,
    port         INTEGER NOT NULL,
    router_pid   INTEGER,
    router_start TEXT,
    traffic      TEXT NOT NULL DEFAULT '{}',
    mirror       TEXT NOT NULL DEFAULT '{}',
    generation   INTEGER NOT NULL DEFAULT 0,
    spec_hash    TEXT NOT NULL,
    spec         TEXT NOT NULL,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deployments (
    endpoint      TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    port          INTEGER,
    pid           INTEGER,
    pid_start     TEXT,
    spec_hash     TEXT NOT NULL,
    spec          TEXT NOT NULL,
    log_path      TEXT,
    message       TEXT NOT NULL DEFAULT '',
    ready_seconds REAL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    PRIMARY KEY (endpoint, name)
);
CREATE TABLE IF NOT EXISTS processes (
    pid        INTEGER NOT NULL,
    start      TEXT NOT NULL,
    endpoint   TEXT NOT NULL,
    deployment TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL,
    port       INTEGER,
    created_at REAL NOT NULL,
    PRIMARY KEY (pid, start)
);
CREATE TABLE IF NOT EXISTS rollouts (
    endpoint   TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS monitors (
    name       TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    endpoint      TEXT PRIMARY KEY,
    primary_key   TEXT NOT NULL,
    secondary_key TEXT NOT NULL,
    token_secret  TEXT NOT NULL
);
"""

# Deployment provisioning states, named as Azure names them.
SUCCEEDED = "Succeeded"
FAILED = "Failed"
CREATING = "Creating"
UPDATING = "Updating"


@dataclass
class EndpointRow:
    name: str
    auth_mode: str
    port: int
    router_pid: int | None
    router_start: str | None
    traffic: dict[str, int]
    mirror: dict[str, int]
    generation: int
    spec_hash: str
    spec: dict[str, Any]


@dataclass
class DeploymentRow:
    endpoint: str
    name: str
    status: str
    port: int | None
    pid: int | None
    pid_start: str | None
    spec_hash: str
    spec: dict[str, Any]
    log_path: str | None
    message: str = ""
    ready_seconds: float | None = None


@dataclass
class ProcessRow:
    pid: int
    start: str
    endpoint: str
    deployment: str
    role: str
    port: int | None


@dataclass
class KeyRow:
    endpoint: str
    primary_key: str
    secondary_key: str
    token_secret: str = field(repr=False)


class StateStore:
    """Thin typed access to the database; every method is its own short transaction."""

    def __init__(self, db_path: Path, *, readonly: bool = False) -> None:
        self.path = db_path
        self.readonly = readonly
        if not readonly:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not db_path.exists()
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(SCHEMA)
            if fresh:
                # The database holds endpoint keys.
                os.chmod(db_path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        else:
            con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            with con:
                yield con
        finally:
            con.close()

    # endpoints -------------------------------------------------------------------------------
    def endpoints(self) -> list[EndpointRow]:
        with self._tx() as con:
            rows = con.execute("SELECT * FROM endpoints ORDER BY name").fetchall()
        return [_endpoint(r) for r in rows]

    def endpoint(self, name: str) -> EndpointRow | None:
        with self._tx() as con:
            r = con.execute("SELECT * FROM endpoints WHERE name=?", (name,)).fetchone()
        return _endpoint(r) if r else None

    def upsert_endpoint(self, row: EndpointRow) -> None:
        now = time.time()
        with self._tx() as con:
            con.execute(
                """INSERT INTO endpoints (name, auth_mode, port, router_pid, router_start, traffic, mirror,
                       generation, spec_hash, spec, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(name) DO UPDATE SET auth_mode=excluded.auth_mode, port=excluded.port,
                       router_pid=excluded.router_pid, router_start=excluded.router_start,
                       traffic=excluded.traffic, mirror=excluded.mirror, generation=excluded.generation,
                       spec_hash=excluded.spec_hash, spec=excluded.spec, updated_at=excluded.updated_at""",
                (
                    row.name,
                    row.auth_mode,
                    row.port,
                    row.router_pid,
                    row.router_start,
                    json.dumps(row.traffic, sort_keys=True),
                    json.dumps(row.mirror, sort_keys=True),
                    row.generation,
                    row.spec_hash,
                    json.dumps(row.spec, sort_keys=True),
                    now,
                    now,
                ),
            )

    def bump_generation(self, endpoint: str) -> int:
        with self._tx() as con:
            con.execute(
                "UPDATE endpoints SET generation = generation + 1, updated_at=? WHERE name=?",
                (time.time(), endpoint),
            )
            r = con.execute("SELECT generation FROM endpoints WHERE name=?", (endpoint,)).fetchone()
        if r is None:
            raise KeyError(endpoint)
        return int(r["generation"])

    def delete_endpoint(self, name: str) -> None:
        with self._tx() as con:
            con.execute("DELETE FROM deployments WHERE endpoint=?", (name,))
            con.execute("DELETE FROM keys WHERE endpoint=?", (name,))
            con.execute("DELETE FROM rollouts WHERE endpoint=?", (name,))
            con.execute("DELETE FROM endpoints WHERE name=?", (name,))

    # deployments -----------------------------------------------------------------------------
    def deployments(self, endpoint: str | None = None) -> list[DeploymentRow]:
        with self._tx() as con:
            if endpoint is None:
                rows = con.execute("SELECT * FROM deployments ORDER BY endpoint, name").fetchall()
            else:
                rows = con.execute(
                    "SELECT * FROM deployments WHERE endpoint=? ORDER BY name", (endpoint,)
                ).fetchall()
        return [_deployment(r) for r in rows]

    def deployment(self, endpoint: str, name: str) -> DeploymentRow | None:
        with self._tx() as con:
            r = con.execute(
                "SELECT * FROM deployments WHERE endpoint=? AND name=?", (endpoint, name)
            ).fetchone()
        return _deployment(r) if r else None

    def upsert_deployment(self, row: DeploymentRow) -> None:
        now = time.time()
        with self._tx() as con:
            con.execute(
                """INSERT INTO deployments (endpoint, name, status, port, pid, pid_start, spec_hash, spec,
                       log_path, message, ready_seconds, created_at, updated_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(endpoint, name) DO UPDATE SET status=excluded.status, port=excluded.port,
                       pid=excluded.pid, pid_start=excluded.pid_start, spec_hash=excluded.spec_hash,
                       spec=excluded.spec, log_path=excluded.log_path, message=excluded.message,
                       ready_seconds=excluded.ready_seconds, updated_at=excluded.updated_at""",
                (
                    row.endpoint,
                    row.name,
                    row.status,
                    row.port,
                    row.pid,
                    row.pid_start,
                    row.spec_hash,
                    json.dumps(row.spec, sort_keys=True),
                    row.log_path,
                    row.message,
                    row.ready_seconds,
                    now,
                    now,
                ),
            )

    def delete_deployment(self, endpoint: str, name: str) -> None:
        with self._tx() as con:
            con.execute("DELETE FROM deployments WHERE endpoint=? AND name=?", (endpoint, name))

    # processes: every process ever started and not yet stopped, so nothing is orphaned even if
    # the engine dies between starting a process and recording it on its deployment ------------
    def add_process(
        self, pid: int, start: str, endpoint: str, deployment: str, *, role: str, port: int | None
    ) -> None:
        with self._tx() as con:
            con.execute(
                "INSERT OR REPLACE INTO processes VALUES (?,?,?,?,?,?,?)",
                (pid, start, endpoint, deployment, role, port, time.time()),
            )

    def remove_process(self, pid: int, start: str) -> None:
        with self._tx() as con:
            con.execute("DELETE FROM processes WHERE pid=? AND start=?", (pid, start))

    def processes(self, endpoint: str | None = None) -> list[ProcessRow]:
        with self._tx() as con:
            if endpoint is None:
                rows = con.execute("SELECT * FROM processes ORDER BY created_at").fetchall()
            else:
                rows = con.execute(
                    "SELECT * FROM processes WHERE endpoint=? ORDER BY created_at", (endpoint,)
                ).fetchall()
        return [
            ProcessRow(r["pid"], r["start"], r["endpoint"], r["deployment"], r["role"], r["port"])
            for r in rows
        ]

    # rollouts: the progress record of an endpoint's last progressive rollout, as plain JSON --------
    # (gitops.targets.local.rollout_store turns it into a RolloutRecord and back).
    def rollout(self, endpoint: str) -> dict[str, Any] | None:
        with self._tx() as con:
            r = con.execute("SELECT record FROM rollouts WHERE endpoint=?", (endpoint,)).fetchone()
        if r is None:
            return None
        record: dict[str, Any] = json.loads(r["record"])
        return record

    def put_rollout(self, endpoint: str, record: dict[str, Any] | None) -> None:
        with self._tx() as con:
            if record is None:
                con.execute("DELETE FROM rollouts WHERE endpoint=?", (endpoint,))
            else:
                con.execute(
                    """INSERT INTO rollouts (endpoint, record, updated_at) VALUES (?,?,?)
                       ON CONFLICT(endpoint) DO UPDATE
                       SET record=excluded.record, updated_at=excluded.updated_at""",
                    (endpoint, json.dumps(record, sort_keys=True), time.time()),
                )

    # monitors: schedules applied to this environment (evaluated on demand by `mlops monitor run`)
    def monitors(self) -> dict[str, dict[str, Any]]:
        with self._tx() as con:
            rows = con.execute("SELECT name, record FROM monitors ORDER BY name").fetchall()
        return {r["name"]: json.loads(r["record"]) for r in rows}

    def put_monitor(self, name: str, record: dict[str, Any] | None) -> None:
        with self._tx() as con:
            if record is None:
                con.execute("DELETE FROM monitors WHERE name=?", (name,))
            else:
                con.execute(
                    """INSERT INTO monitors (name, record, updated_at) VALUES (?,?,?)
                       ON CONFLICT(name) DO UPDATE SET record=excluded.record, updated_at=excluded.updated_at""",
                    (name, json.dumps(record, sort_keys=True), time.time()),
                )

    # keys ------------------------------------------------------------------------------------
    def keys(self, endpoint: str) -> KeyRow | None:
        with self._tx() as con:
            r = con.execute("SELECT * FROM keys WHERE endpoint=?", (endpoint,)).fetchone()
        if r is None:
            return None
        return KeyRow(r["endpoint"], r["primary_key"], r["secondary_key"], r["token_secret"])

    def put_keys(self, row: KeyRow) -> None:
        with self._tx() as con:
            con.execute(
                """INSERT INTO keys (endpoint, primary_key, secondary_key, token_secret) VALUES (?,?,?,?)
                   ON CONFLICT(endpoint) DO UPDATE SET primary_key=excluded.primary_key,
                       secondary_key=excluded.secondary_key, token_secret=excluded.token_secret""",
                (row.endpoint, row.primary_key, row.secondary_key, row.token_secret),
            )


def _endpoint(r: sqlite3.Row) -> EndpointRow:
    return EndpointRow(
        name=r["name"],
        auth_mode=r["auth_mode"],
        port=int(r["port"]),
        router_pid=r["router_pid"],
        router_start=r["router_start"],
        traffic=json.loads(r["traffic"]),
        mirror=json.loads(r["mirror"]),
        generation=int(r["generation"]),
        spec_hash=r["spec_hash"],
        spec=json.loads(r["spec"]),
    )


def _deployment(r: sqlite3.Row) -> DeploymentRow:
    return DeploymentRow(
        endpoint=r["endpoint"],
        name=r["name"],
        status=r["status"],
        port=r["port"],
        pid=r["pid"],
        pid_start=r["pid_start"],
        spec_hash=r["spec_hash"],
        spec=json.loads(r["spec"]),
        log_path=r["log_path"],
        message=r["message"],
        ready_seconds=r["ready_seconds"],
    )
