"""Resource addresses (``endpoint/<ep>``, ``deployment/<ep>/<dep>``, ``monitor/<name>``) and the one
parser for references to a deployment (``azureml:<endpoint>:<deployment>`` or an ARM id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ResourceKind(StrEnum):
    ENDPOINT = "endpoint"
    DEPLOYMENT = "deployment"
    MONITOR = "monitor"


@dataclass(frozen=True, order=True)
class ResourceAddress:
    kind: ResourceKind
    name: str
    endpoint: str | None = None  # deployments only: the endpoint they belong to

    @classmethod
    def endpoint_(cls, name: str) -> ResourceAddress:
        return cls(ResourceKind.ENDPOINT, name)

    @classmethod
    def deployment(cls, endpoint: str, name: str) -> ResourceAddress:
        return cls(ResourceKind.DEPLOYMENT, name, endpoint)

    @classmethod
    def monitor(cls, name: str) -> ResourceAddress:
        return cls(ResourceKind.MONITOR, name)

    @classmethod
    def parse(cls, text: str) -> ResourceAddress:
        kind, _, rest = text.partition("/")
        parts = rest.split("/")
        if kind == ResourceKind.DEPLOYMENT and len(parts) == 2 and all(parts):
            return cls.deployment(parts[0], parts[1])
        if kind in (ResourceKind.ENDPOINT, ResourceKind.MONITOR) and len(parts) == 1 and parts[0]:
            return cls(ResourceKind(kind), parts[0])
        raise ValueError(f"not a resource address: {text!r} (endpoint/E, deployment/E/D or monitor/M)")

    def __str__(self) -> str:
        if self.kind is ResourceKind.DEPLOYMENT:
            return f"deployment/{self.endpoint}/{self.name}"
        return f"{self.kind.value}/{self.name}"


_SHORT_REF = re.compile(r"^azureml:([^:/]+):([^:/]+)$")
_ARM_REF = re.compile(r"onlineEndpoints/([^/]+)/deployments/([^/]+)", re.IGNORECASE)


def parse_deployment_ref(ref: object) -> tuple[str, str] | None:
    """``azureml:<endpoint>:<deployment>`` (as written in git) or an ARM id ending
    ``onlineEndpoints/<endpoint>/deployments/<deployment>`` (as Azure returns it) -> the two names."""
    text = str(ref or "").strip()
    m = _SHORT_REF.match(text) or _ARM_REF.search(text)
    return (m.group(1), m.group(2)) if m else None
