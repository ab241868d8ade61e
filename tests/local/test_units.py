"""Fast tests of the local engine's parts (no inference servers started)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gitops.targets.local import LocalEngine, LocalTargetError, ModelRegistry
from gitops.targets.local.auth import check_authorization, issue_token, verify_token
from gitops.targets.local.datacollect import CollectorWriter, read_collected
from gitops.targets.local.engine import _start_action
from gitops.targets.local.router import (
    NO_DEPLOYMENT_MESSAGE,
    RouterConfig,
    Target,
    choose_deployment,
    load_config,
    not_found_message,
    parse_response,
    should_collect,
    should_mirror,
)
from gitops.targets.local.spec import deployment_spec, endpoint_spec
from gitops.targets.local.state import DeploymentRow, EndpointRow, KeyRow, StateStore


def test_registry_versions_and_resolution(tmp_path: Path) -> None:
    src = tmp_path / "model"
    src.mkdir()
    (src / "model.joblib").write_bytes(b"x")
    reg = ModelRegistry(tmp_path / "reg")
    assert reg.register("m", src).version == "1"
    assert reg.register("m", src, description="second").version == "2"
    assert reg.resolve("m:1").path == tmp_path / "reg" / "m" / "1"
    assert (reg.resolve("m:1").path / "model" / "model.joblib").is_file()
    assert reg.resolve("m@latest").version == "2"
    assert reg.resolve("m").metadata["description"] == "second"
    with pytest.raises(LocalTargetError, match="versions: 1, 2"):
        reg.resolve("m:3")
    with pytest.raises(LocalTargetError, match="mlops models register"):
        reg.resolve("other:1")
    with pytest.raises(LocalTargetError, match="latest"):
        reg.resolve("m@prod")
    with pytest.raises(LocalTargetError, match="does not exist"):
        reg.register("m", tmp_path / "missing")


def test_keys_and_tokens() -> None:
    keys = ("k1", "k2")
    assert check_authorization("Bearer k1", "key", "ep", keys, "s")
    assert check_authorization("bearer k2", "key", "ep", keys, "s")
    assert not check_authorization(None, "key", "ep", keys, "s")
    assert not check_authorization("Bearer k3", "key", "ep", keys, "s")
    assert not check_authorization("Basic k1", "key", "ep", keys, "s")
    token, expiry = issue_token("ep", "secret")
    assert expiry > time.time()
    assert verify_token(token, "ep", "secret")
    assert check_authorization(f"Bearer {token}", "aml_token", "ep", keys, "secret")
    assert not check_authorization("Bearer k1", "aml_token", "ep", keys, "secret"), (
        "keys do not work for token endpoints"
    )
    assert not verify_token(token, "other-ep", "secret")
    assert not verify_token(token, "ep", "other-secret")
    assert not verify_token(token[:-1] + ("0" if token[-1] != "0" else "1"), "ep", "secret")
    assert not verify_token(token, "ep", "secret", now=expiry + 1)


def _store(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path / "s.db")
    store.upsert_endpoint(
        EndpointRow("ep", "key", 1, None, None, {"a": 60, "b": 40, "f": 0}, {"c": 10, "f": 5}, 3, "h", {})
    )
    store.put_keys(KeyRow("ep", "p", "s", "t"))
    for name, status in (("a", "Succeeded"), ("b", "Succeeded"), ("c", "Succeeded"), ("f", "Failed")):
        spec: dict[str, Any] = {"request_timeout_ms": 2500}
        if name == "a":
            spec["data_collection"] = {"collections": ["model_inputs"], "sampling_rate": 0.5}
        store.upsert_deployment(
            DeploymentRow("ep", name, status, 1000 + ord(name), None, None, "h", spec, None)
        )
    return store


def test_router_config_split_mirror_and_failed_deployments(tmp_path: Path) -> None:
    cfg = load_config(_store(tmp_path), "ep")
    assert cfg.generation == 3
    assert cfg.keys == ("p", "s")
    assert set(cfg.targets) == {"a", "b", "c"}, "a Failed deployment is never a target"
    assert cfg.mirror == (("c", 10),)
    assert cfg.targets["a"].timeout_s == 2.5
    assert cfg.targets["a"].collections == ("model_inputs",)
    picks = [cfg.pick(i / 1000).name for i in range(1000)]  # type: ignore[union-attr]
    assert picks.count("a") == 600
    assert picks.count("b") == 400


def test_router_config_without_live_traffic(tmp_path: Path) -> None:
    store = _store(tmp_path)
    row = store.endpoint("ep")
    assert row is not None
    row.traffic = {"a": 0}
    store.upsert_endpoint(row)
    assert load_config(store, "ep").pick(0.5) is None


class _Draws:
    """A stand-in for random.random that returns one value and counts how often it was asked."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.value


def _config(split: tuple[tuple[int, str], ...] = ((60, "a"), (100, "b"))) -> RouterConfig:
    targets = {n: Target(n, 1000 + i, 1.0) for i, n in enumerate(("a", "b", "idle"))}
    return RouterConfig("ep", 1, "key", ("p", "s"), "t", targets, split=split, mirror=(("b", 10),))


@pytest.mark.parametrize(
    ("wanted", "draw", "chosen", "draws"),
    [
        (None, 0.0, "a", 1),
        (None, 0.599, "a", 1),
        (None, 0.6, "b", 1),
        (None, 0.999, "b", 1),
        ("", 0.0, "a", 1),  # an empty header routes by the split
        ("idle", 0.0, "idle", 0),  # the header reaches any serving deployment, even at 0 %
        ("b", 0.0, "b", 0),
        ("missing", 0.0, None, 0),
    ],
)
def test_choose_deployment(wanted: str | None, draw: float, chosen: str | None, draws: int) -> None:
    rnd = _Draws(draw)
    target = choose_deployment(_config(), wanted, rnd)
    assert (target.name if target else None) == chosen
    assert rnd.calls == draws, "the split is drawn only for requests without the header"


def test_choose_deployment_without_live_split() -> None:
    assert choose_deployment(_config(split=()), None, _Draws(0.5)) is None
    assert not_found_message(_config(), None) == NO_DEPLOYMENT_MESSAGE
    assert not_found_message(_config(), "x") == "Deployment x not found or not ready on endpoint ep."


@pytest.mark.parametrize(
    ("percent", "draw", "mirrored"),
    [
        (10, 0.0, True),
        (10, 0.099, True),
        (10, 0.1, False),
        (0, 0.0, False),
        (50, 0.4999, True),
        (50, 0.5, False),
    ],
)
def test_should_mirror(percent: int, draw: float, mirrored: bool) -> None:
    assert should_mirror(percent, draw) is mirrored


@pytest.mark.parametrize(
    ("collections", "rate", "draw", "collected", "draws"),
    [
        ((), 1.0, 0.0, False, 0),
        (("model_inputs",), 1.0, 0.99, True, 0),  # no sampling: no draw
        (("model_inputs",), 0.5, 0.49, True, 1),
        (("model_inputs",), 0.5, 0.5, False, 1),
        (("model_outputs",), 0.0, 0.0, False, 1),
    ],
)
def test_should_collect(
    collections: tuple[str, ...], rate: float, draw: float, collected: bool, draws: int
) -> None:
    rnd = _Draws(draw)
    assert should_collect(Target("a", 1, 1.0, collections, rate), rnd) is collected
    assert rnd.calls == draws


@pytest.mark.parametrize(
    ("previous_hash", "action"), [(None, "created"), ("old", "updated"), ("h", "restarted")]
)
def test_start_action(previous_hash: str | None, action: str) -> None:
    spec: Any = SimpleNamespace(spec_hash=lambda: "h")
    prev: Any = None if previous_hash is None else SimpleNamespace(spec_hash=previous_hash)
    assert _start_action(spec, prev) == action


def test_parse_upstream_responses() -> None:
    status, headers, body = parse_response(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    assert (status, body) == (200, b"{}")
    assert ("Content-Type", "application/json") in headers
    status, _, body = parse_response(
        b"HTTP/1.1 500 ERR\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    assert (status, body) == (500, b"abcde")
    with pytest.raises(Exception, match="mid-response"):
        parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")


def test_collector_writes_one_file_per_day(tmp_path: Path) -> None:
    w = CollectorWriter(tmp_path)
    w.collect("ep", "blue", "model_inputs", "cid-1", data={"data": [[1]]}, content_type="application/json")
    w.collect("ep", "blue", "model_outputs", "cid-1", data={"p": [0]}, content_type="application/json")
    w.close()
    ins = read_collected(tmp_path, "ep", "blue", "model_inputs")
    outs = read_collected(tmp_path, "ep", "blue", "model_outputs")
    assert [(r["correlationid"], r["data"]) for r in ins] == [("cid-1", {"data": [[1]]})]
    assert outs[0]["correlationid"] == "cid-1"
    assert outs[0]["time"].endswith("Z")
    assert len(list(tmp_path.glob("ep/blue/model_inputs/*/*/*/data.jsonl"))) == 1


def _deployment(code: Path, **kw: Any) -> Any:
    base = {
        "name": "blue",
        "endpoint_name": "ep",
        "base_path": str(code.parent),
        "code_configuration": SimpleNamespace(code=code.name, scoring_script="score.py"),
        "model": None,
    }
    base.update(kw)
    return SimpleNamespace(**base)


def test_spec_reports_azure_only_fields_and_hash_ignores_tags(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "score.py").write_text("def init(): pass\n")
    d = _deployment(
        code,
        instance_type="Standard_DS3_v2",
        egress_public_network_access="disabled",
        tags={"git-revision": "1"},
    )
    spec = deployment_spec(d, None)
    assert any("instance_type=Standard_DS3_v2 is not applicable locally" in n for n in spec.not_applicable)
    assert any("egress_public_network_access" in n for n in spec.not_applicable)
    assert spec.readiness.failure_threshold == 30
    assert spec.request_timeout_ms == 5000
    d2 = _deployment(
        code,
        instance_type="Standard_DS3_v2",
        egress_public_network_access="disabled",
        tags={"git-revision": "2"},
    )
    assert deployment_spec(d2, None).spec_hash() == spec.spec_hash()
    (code / "score.py").write_text("def init(): pass  # changed\n")
    assert deployment_spec(d2, None).spec_hash() != spec.spec_hash(), "code changes restart the deployment"


def test_spec_errors_are_explicit(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "score.py").write_text("")
    with pytest.raises(LocalTargetError, match="no local model registry"):
        deployment_spec(_deployment(code, model="azureml:m:1"), None)
    with pytest.raises(LocalTargetError, match="does not exist"):
        deployment_spec(_deployment(code, model=SimpleNamespace(path="nowhere")), None)
    with pytest.raises(LocalTargetError, match="scoring script"):
        deployment_spec(
            _deployment(code, code_configuration=SimpleNamespace(code="code", scoring_script="missing.py")),
            None,
        )
    with pytest.raises(LocalTargetError, match="aad_token"):
        endpoint_spec(SimpleNamespace(name="ep", auth_mode="aad_token"))


def test_set_traffic_validation(tmp_path: Path) -> None:
    engine = LocalEngine(tmp_path, "unit")
    try:
        engine.ensure_endpoint(SimpleNamespace(name="ep", auth_mode="key"))
        for name, status in (("a", "Succeeded"), ("b", "Succeeded"), ("f", "Failed")):
            engine.store.upsert_deployment(DeploymentRow("ep", name, status, 1, None, None, "h", {}, None))
        bad = [
            ({"a": 60, "b": 30}, {}, "sums to 90%"),
            ({"a": 100, "x": 0}, {}, "'x', which is not declared"),
            ({"a": 50, "f": 50}, {}, "Failed"),
            ({"a": 100}, {"b": 60}, "Azure allows 0-50%"),
            ({"a": 50, "b": 50}, {"b": 10}, "live or mirrored, not both"),
            ({"a": 100}, {"b": 10, "f": 10}, "only one deployment"),
        ]
        for traffic, mirror, message in bad:
            with pytest.raises(LocalTargetError, match=message):
                engine.set_traffic("ep", traffic, mirror)
        assert engine.set_traffic("ep", {"a": 100}, {"b": 20}) is True
        assert engine.set_traffic("ep", {"a": 100}, {"b": 20}) is False
        state = engine.read_state()[0]
        assert state["traffic"] == {"a": 100}
        assert state["mirror_traffic"] == {"b": 20}
        assert state["router_alive"]
        with pytest.raises(LocalTargetError, match="still receives traffic"):
            engine.delete_deployment("ep", "a")
    finally:
        engine.down()
    assert engine.read_state() == []


# The server log's cause: real tracebacks, written by a real Python process -----------------------
_WRAPPED = """
import logging, sys
logging.basicConfig(stream=sys.stdout, format="%(asctime)s E [1] azmlinfsrv - %(message)s")
class UserScriptException(Exception):
    pass
def init():
    {body}
try:
    try:
        init()
    except Exception as ex:
        raise UserScriptException("Caught an unhandled exception from the user script") from ex
except UserScriptException:
    logging.exception("Encountered Exception")
print("Worker exiting (pid: 1)")
"""


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        ("import mlflow", "ModuleNotFoundError: No module named 'mlflow'"),
        (
            "open('/nonexistent/model.pkl')",
            "FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/model.pkl'",
        ),
    ],
    ids=["missing-package", "missing-model-file"],
)
def test_log_cause_is_the_root_exception(tmp_path: Path, body: str, cause: str) -> None:
    import subprocess
    import sys

    from gitops.targets.local import process as proc

    log = tmp_path / "server.log"
    with log.open("wb") as fh:
        subprocess.run(
            [sys.executable, "-c", _WRAPPED.format(body=body)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            check=True,
        )
    assert "UserScriptException" in log.read_text()
    assert proc.log_cause(log) == cause


def test_log_cause_without_traceback(tmp_path: Path) -> None:
    from gitops.targets.local import process as proc

    log = tmp_path / "server.log"
    log.write_text("2026-12-02 00:00:00,000 E [1] gunicorn.error - Worker failed to boot.\n")
    assert proc.log_cause(log) is None
    assert proc.log_cause(tmp_path / "missing.log") is None
