"""Offline render: run the real Pulumi program under Pulumi's mocks and capture what it declares.

The capture (`{"stack", "resources": [{"type", "name", "parent", "inputs"}], "outputs"}`) is what
reviewers read, what the tests assert on and what the ARM renderer turns into a template for
checkov. No cloud, no Pulumi CLI and no credentials are needed.
"""

from __future__ import annotations

import json
import re
import runpy
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import NAMESPACE, PROJECT_ROOT, ConfigError, load_stack_file, stack_file
from .resource_types import arm_id

FAKE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
FAKE_TENANT = "11111111-1111-1111-1111-111111111111"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
_SENSITIVE = re.compile(r"(password|secret|connectionstring|accesskey|sastoken|instrumentationkey)", re.I)
REDACTED = "[secret]"


@dataclass
class Capture:
    stack: str
    resources: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.resources, key=lambda r: (r["type"], r["name"]))
        return {"stack": self.stack, "resources": ordered, "outputs": self.outputs}

    def of_type(self, token: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == token]

    def one(self, token: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(token) if name is None or r["name"] == name]
        if len(found) != 1:
            raise LookupError(f"expected one {token} {name or ''}, found {len(found)}")
        return found[0]

    def summary(self) -> dict[str, int]:
        return dict(sorted(Counter(r["type"] for r in self.resources).items()))


def _redact(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if value.get(SECRET_SIG) is not None or (key and _SENSITIVE.search(key)):
            return REDACTED
        return {k: _redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, key) for v in value]
    if key and _SENSITIVE.search(key) and isinstance(value, str):
        return REDACTED
    return value


def _computed_state(token: str, inputs: dict[str, Any], rid: str, name: str) -> dict[str, Any]:
    """Outputs Azure computes that the program reads from other resources."""
    state: dict[str, Any] = {**inputs, "id": rid, "name": rid.rsplit("/", 1)[-1]}
    identity = inputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # Inputs name identities as a list of IDs; Azure answers with a map of ID -> details.
        state["identity"] = {
            **identity,
            "userAssignedIdentities": {i: {} for i in identity["userAssignedIdentities"]},
        }
    if token == "azure-native:managedidentity:UserAssignedIdentity":
        state["principalId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, rid + "#principal"))
        state["clientId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, rid + "#client"))
        state["tenantId"] = FAKE_TENANT
    elif token == "azure-native:authorization:PolicyAssignment" and isinstance(identity, dict):
        state["identity"] = {
            **identity,
            "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, rid + "#principal")),
        }
    elif token == "azure-native:keyvault:Vault":
        state["properties"] = {
            **inputs.get("properties", {}),
            "vaultUri": f"https://{state['name']}.vault.azure.net/",
        }
    elif token == "azure-native:containerregistry:Registry":
        state["loginServer"] = f"{state['name']}.azurecr.io"
    elif token == "azure-native:applicationinsights:Component":
        state["connectionString"] = "InstrumentationKey=00000000-0000-0000-0000-000000000000"
    return state


def _install_mocks(
    stack: str, capture: Capture, parents: dict[tuple[str, str], str], protected: set[tuple[str, str]]
) -> None:
    import pulumi
    from pulumi.runtime import mocks

    class CaptureMonitor(mocks.MockMonitor):
        # MockResourceArgs carries no parent, so read it from the raw registration request.
        def RegisterResource(self, request: Any) -> Any:  # the gRPC method name
            parent_type, _, parent_name = (request.parent or "").rpartition("::")
            if request.parent and not parent_type.endswith("pulumi:pulumi:Stack"):
                parents[(request.type, request.name)] = parent_name
            if request.protect:
                protected.add((request.type, request.name))
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]

    class CaptureMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            inputs = dict(args.inputs)
            if args.typ.startswith("azure-native:"):
                rid = arm_id(args.typ, inputs, FAKE_SUBSCRIPTION, args.name)
            else:
                rid = f"{args.name}-component"
            capture.resources.append(
                {"type": args.typ, "name": args.name, "parent": None, "inputs": _redact(inputs)}
            )
            return rid, _computed_state(args.typ, inputs, rid, args.name)

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
            if args.token == "azure-native:authorization:getClientConfig":
                client = {
                    "clientId": "22222222-2222-2222-2222-222222222222",
                    "objectId": "33333333-3333-3333-3333-333333333333",
                    "subscriptionId": FAKE_SUBSCRIPTION,
                    "tenantId": FAKE_TENANT,
                }
                return client, []
            raise NotImplementedError(f"the offline render has no mock for invoke {args.token}")

    mocks.set_mocks(
        CaptureMocks(), project=NAMESPACE, stack=stack, preview=False, monitor=CaptureMonitor(CaptureMocks())
    )


def _flatten_config(config: dict[str, Any]) -> dict[str, str]:
    """Give the program its config exactly as the Pulumi engine would: strings, objects as JSON."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            flat[key] = REDACTED
        elif isinstance(value, dict | list):
            flat[key] = json.dumps(value)
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        else:
            flat[key] = str(value)
    return flat


def render(stack: str, stack_path: Path | None = None) -> Capture:
    """Run `platform/__main__.py` for `stack` under mocks. Raises ConfigError on bad config."""
    from pulumi.runtime import settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from . import config as config_module

    path = stack_path or stack_file(stack)
    flat = _flatten_config(load_stack_file(path))
    # Validate before anything is registered so a config error is the only thing the user sees.
    raw, location = config_module.raw_from_stack_config(flat)
    config_module.validate(raw, stack=stack, location=location, source=path)

    capture = Capture(stack=stack)
    started = time.perf_counter()
    set_all_config({k: v for k, v in flat.items()})
    parents: dict[tuple[str, str], str] = {}
    protected: set[tuple[str, str]] = set()
    _install_mocks(stack, capture, parents, protected)
    config_module.STACK_FILE_OVERRIDE = path
    try:
        settings.SETTINGS.rpc_manager.clear()
        settings.SETTINGS.outputs.clear()

        def program() -> None:
            runpy.run_path(str(PROJECT_ROOT / "platform"), run_name="__main__")

        _sync_await(run_pulumi_func(program))
        root = settings.get_root_resource()
        capture.outputs = _redact(_resolve_outputs(dict(getattr(root, "outputs", {}))))
        for resource in capture.resources:
            resource["parent"] = parents.get((resource["type"], resource["name"]))
            if (resource["type"], resource["name"]) in protected:
                resource["protect"] = True
    finally:
        config_module.STACK_FILE_OVERRIDE = None
        sys.path[:] = [p for p in sys.path if p != str(PROJECT_ROOT / "platform")]
    capture.seconds = time.perf_counter() - started
    return capture


def _resolve_outputs(exported: dict[str, Any]) -> dict[str, Any]:
    import pulumi
    from pulumi.runtime.sync_await import _sync_await

    async def resolve(value: Any) -> Any:
        out = pulumi.Output.from_input(value)
        if await out.is_secret():
            return REDACTED
        return await out.future()

    return {k: _sync_await(resolve(v)) for k, v in exported.items()}


def format_summary(capture: Capture) -> str:
    counts = capture.summary()
    width = max(len(t) for t in counts)
    lines = [
        f"stack {capture.stack}: {len(capture.resources)} resources ({capture.seconds:.2f}s offline render)"
    ]
    lines += [f"  {t.ljust(width)}  {n:>3}" for t, n in counts.items()]
    return "\n".join(lines)


def write(capture: Capture, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(capture.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(out)


__all__ = ["Capture", "ConfigError", "format_summary", "render", "write"]
