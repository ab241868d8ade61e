"""What a plan can do (:class:`ActionKind`), in which order (:class:`Phase`), why (:class:`Reason`),
and what shape a live resource is in (:class:`Health`).

The string values are the plan file's JSON spelling: they are written in one place, here, and
read back with ``ActionKind(value)`` (Terraform's ``plans.Action`` / ``ActionReason`` pattern).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Phase(IntEnum):
    """Within one endpoint, actions run in this order (see :mod:`gitops.sync`)."""

    ASSETS = 0  # models and environments: registered before any endpoint group starts
    ENDPOINT = 1
    DEPLOYMENTS = 2  # created or changed at 0 % traffic, waited on until healthy
    TRAFFIC = 3
    MONITORS = 4
    DELETE_MONITORS = 5
    DELETE_DEPLOYMENTS = 6  # their traffic is already 0
    DELETE_ENDPOINTS = 7


class ActionKind(StrEnum):
    REGISTER_MODEL = "register_model"
    REGISTER_ENVIRONMENT = "register_environment"
    CREATE_ENDPOINT = "create_endpoint"
    UPDATE_ENDPOINT = "update_endpoint"
    CREATE_DEPLOYMENT = "create_deployment"
    UPDATE_DEPLOYMENT = "update_deployment"
    REPLACE_DEPLOYMENT = "replace_deployment"
    SET_TRAFFIC = "set_traffic"
    ROLLOUT = "rollout"
    SET_MIRROR = "set_mirror"
    CREATE_MONITOR = "create_monitor"
    UPDATE_MONITOR = "update_monitor"
    ENABLE_MONITOR = "enable_monitor"
    DELETE_MONITOR = "delete_monitor"
    DELETE_DEPLOYMENT = "delete_deployment"
    DELETE_ENDPOINT = "delete_endpoint"

    @property
    def phase(self) -> Phase:
        return _PHASES[self]

    @property
    def changes_traffic(self) -> bool:
        return self.phase is Phase.TRAFFIC

    @property
    def summary_key(self) -> str:
        """The plan summary's column: create | update | replace | delete | traffic."""
        return _SUMMARY.get(self, self.value.split("_", 1)[0])


_PHASES: dict[ActionKind, Phase] = {
    ActionKind.REGISTER_MODEL: Phase.ASSETS,
    ActionKind.REGISTER_ENVIRONMENT: Phase.ASSETS,
    ActionKind.CREATE_ENDPOINT: Phase.ENDPOINT,
    ActionKind.UPDATE_ENDPOINT: Phase.ENDPOINT,
    ActionKind.CREATE_DEPLOYMENT: Phase.DEPLOYMENTS,
    ActionKind.UPDATE_DEPLOYMENT: Phase.DEPLOYMENTS,
    ActionKind.REPLACE_DEPLOYMENT: Phase.DEPLOYMENTS,
    ActionKind.SET_TRAFFIC: Phase.TRAFFIC,
    ActionKind.ROLLOUT: Phase.TRAFFIC,
    ActionKind.SET_MIRROR: Phase.TRAFFIC,
    ActionKind.CREATE_MONITOR: Phase.MONITORS,
    ActionKind.UPDATE_MONITOR: Phase.MONITORS,
    ActionKind.ENABLE_MONITOR: Phase.MONITORS,
    ActionKind.DELETE_MONITOR: Phase.DELETE_MONITORS,
    ActionKind.DELETE_DEPLOYMENT: Phase.DELETE_DEPLOYMENTS,
    ActionKind.DELETE_ENDPOINT: Phase.DELETE_ENDPOINTS,
}
_SUMMARY: dict[ActionKind, str] = {
    ActionKind.REGISTER_MODEL: "create",
    ActionKind.REGISTER_ENVIRONMENT: "create",
    ActionKind.SET_TRAFFIC: "traffic",
    ActionKind.SET_MIRROR: "traffic",
    ActionKind.ROLLOUT: "traffic",
    ActionKind.ENABLE_MONITOR: "update",
}


class Reason(StrEnum):
    """Why an action is planned. Paired with a detail string where the reason needs one."""

    MISSING = "missing"  # declared in git, missing in the target
    DIFFERS = "differs"  # differs from git
    ADOPTING = "adopting"  # differs, and not yet tagged as managed by this environment
    FAILED_STATE = "failed_state"  # the live resource is Failed: re-applied
    NOT_HEALTHY = "not_healthy"  # provisioning state is not Succeeded: re-applied
    IMMUTABLE_FIELD = "immutable_field"  # a field Azure cannot change in place (0 % traffic: replaced)
    TRAFFIC_DIFFERS = "traffic_differs"
    ROLLOUT = "rollout"  # a progressive rollout starts
    ROLLOUT_RESUME = "rollout_resume"  # an interrupted rollout resumes at its step
    ROLLOUT_RETRY = "rollout_retry"  # a rolled-back rollout is retried (--retry-rollout)
    PRUNED = "pruned"  # managed by mlops and removed from git
    DISABLED = "disabled"  # a monitor disabled in the target


class Health(StrEnum):
    """A live resource's health, from the provisioning state the service reports."""

    HEALTHY = "healthy"  # Succeeded
    PROGRESSING = "progressing"  # Creating, Updating, Deleting, Provisioning, ...
    FAILED = "failed"  # Failed
    DEGRADED = "degraded"  # Canceled, or a state we do not know: not healthy, not known failed

    @classmethod
    def of(cls, provisioning_state: str | None) -> Health:
        """Azure ML returns provisioning states as str-enums or plain strings in any case."""
        state = str(getattr(provisioning_state, "value", provisioning_state) or "Succeeded").lower()
        if state == "succeeded":
            return cls.HEALTHY
        if state == "failed":
            return cls.FAILED
        if state in _PROGRESSING:
            return cls.PROGRESSING
        return cls.DEGRADED


_PROGRESSING = frozenset({"creating", "updating", "deleting", "provisioning", "accepted", "running"})
