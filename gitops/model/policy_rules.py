"""The policy rules both gates enforce, in one place: ``mlops validate`` (gitops.desired.rules) on a
developer's machine and the checkov custom checks of ``mlops scan`` in CI (policies/checkov/).
Two copies of "what is a secret" drifted apart once (``SAS`` inside ``KANSAS_REGION`` failed the
scan, ``SIGNING_KEY`` passed validate); with one source a file passes both gates or neither.

Standard library only, and nothing else of gitops: checkov loads its checks in its own tool venv
(``.venv-checkov``), where this project is not installed, so the checks put the repository root on
``sys.path`` and import this module alone. Rules take parsed YAML (plain mappings) and return
:class:`Finding` values: a message and the key path of the offending value, which validate turns
into ``file:line`` and checkov into FAILED.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Environments (folder names under environments/) held to the production rules.
PRODUCTION_ENVIRONMENTS = frozenset({"prod"})
MONITOR_TARGET_KEYS = ("create_monitor", "monitoring_target", "endpoint_deployment_id")
COLLECTIONS = ("model_inputs", "model_outputs")
TOKEN_AUTH_MODES = ("aad_token", "aml_token")


@dataclass(frozen=True)
class Finding:
    message: str
    keys: tuple[str, ...] = ()


def is_production(environment: str | None) -> bool:
    return environment in PRODUCTION_ENVIRONMENTS


def is_true(value: Any) -> bool:
    """Azure ML YAML writes booleans both ways (``true`` and ``'true'``)."""
    return value is True or str(value).strip().lower() == "true"


# ------------------------------------------------------------------------------------ secrets
# A value alone can prove a credential: these shapes are never configuration.
_SECRET_VALUE = re.compile(
    r"AccountKey=|SharedAccessKey=|SharedAccessSignature=|sig=[A-Za-z0-9%]{20,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY|Password=",
    re.I,
)
# Resolved at run time by the deployment's identity, so the value in git is an address, not a
# secret: `name@https://<vault>.vault.azure.net`, a Key Vault secret URI, or Azure ML's secret
# injection from a workspace connection (`${{azureml://connections/<name>/credentials/<key>}}`).
_VAULT_HOST = r"https://[A-Za-z0-9-]{3,24}\.vault\.(?:azure\.net|azure\.cn|usgovcloudapi\.net)"
_SECRET_REFERENCE = re.compile(
    rf"^(?:[A-Za-z0-9-]{{1,127}}@{_VAULT_HOST}/?"
    rf"|{_VAULT_HOST}/secrets/[A-Za-z0-9-]{{1,127}}(?:/[0-9A-Fa-f]{{32}})?/?"
    r"|\$\{\{azureml://connections/[^/{}]+/[^{}]+\}\})$"
)
# Whole words of a variable name (SNAKE_CASE, kebab-case, camelCase), so that SAS is found in
# MY_SAS but not in KANSAS_REGION, and TOKEN in API_TOKEN but not in TOKENIZER_PATH.
_SECRET_WORDS = frozenset(
    {
        "SECRET",
        "SECRETS",
        "PASSWORD",
        "PASSWORDS",
        "PASSWD",
        "PASSPHRASE",
        "TOKEN",
        "CREDENTIAL",
        "CREDENTIALS",
        "SAS",
        "APIKEY",
        "CONNECTIONSTRING",
        "PRIVATEKEY",
    }
)
_SECRET_PAIRS = frozenset(
    {("API", "KEY"), ("ACCESS", "KEY"), ("ACCOUNT", "KEY"), ("PRIVATE", "KEY"), ("CONNECTION", "STRING")}
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def name_words(name: str) -> list[str]:
    return [w.upper() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _CAMEL.split(part) if w]


def sensitive_name(name: str) -> bool:
    """The name says it holds a secret: a secret word, a key pair, or ending in KEY (SIGNING_KEY)."""
    words = name_words(name)
    if not words:
        return False
    pairs = set(itertools.pairwise(words))
    return bool(_SECRET_WORDS & set(words) or _SECRET_PAIRS & pairs or words[-1] in ("KEY", "KEYS"))


def is_secret_reference(value: str) -> bool:
    return bool(_SECRET_REFERENCE.match(value.strip()))


def is_committed_secret(name: str, value: Any) -> bool:
    """A literal credential: a value shaped like one, or any literal value under a secret name.
    Empty values and references resolved at run time are not secrets."""
    text = "" if value is None else str(value).strip()
    if not text or is_secret_reference(text):
        return False
    return bool(_SECRET_VALUE.search(text)) or sensitive_name(name)


def committed_secrets(deployment: Mapping[str, Any]) -> list[Finding]:
    variables = deployment.get("environment_variables")
    if not isinstance(variables, Mapping):
        return []  # not a mapping: the Azure ML schema reports it
    return [
        Finding(
            f"environment variable {name} looks like a secret committed to git; read it at runtime with "
            "the deployment's managed identity (e.g. from Key Vault) instead",
            ("environment_variables", str(name)),
        )
        for name, value in variables.items()
        if is_committed_secret(str(name), value)
    ]


# ------------------------------------------------------------------------------------ pinning
# The reference forms of Azure ML assets (MicrosoftDocs/azure-ai-docs reference-yaml-core-syntax.md):
# `azureml:<name>:<version>`, `azureml:<name>@<label>` (`@latest` is the newest version, whatever it
# is at apply time), registry and workspace asset URIs ending `/versions/<version>` or
# `/labels/<label>`, and full ARM ids `/subscriptions/.../<assets>/<name>/versions/<version>`.
_SHORT_PINNED = re.compile(r"^azureml:[^:@/]+:[^:@/]+$")
_URI_VERSION = re.compile(r"/(?:models|environments|codes)/[^/]+/versions/[^/@]+/?$")
_URI_LABEL = re.compile(r"/(?:models|environments|codes)/[^/]+/labels/([^/]+)/?$")
_FLOATS = "pin a version: azureml:<name>:<version> (or .../versions/<version>)"


def pinning_required(environment: str | None, manifest: Mapping[str, Any]) -> bool:
    """``require_pinned_versions`` of environment.yaml decides; without it, production pins."""
    flag = manifest.get("require_pinned_versions")
    return flag if isinstance(flag, bool) else is_production(environment)


def _unpinned_uri(value: str, what: str, keys: tuple[str, ...]) -> list[Finding]:
    label = _URI_LABEL.search(value)
    if label:
        return [Finding(f"{what} {value!r} floats (label {label.group(1)}); {_FLOATS}", keys)]
    if "@" in value:
        return [Finding(f"{what} {value!r} floats ({value.rsplit('@', 1)[1]}); {_FLOATS}", keys)]
    if _URI_VERSION.search(value):
        return []
    return [Finding(f"{what} {value!r} has no version; {_FLOATS}", keys)]


def _unpinned_ref(value: str, what: str, keys: tuple[str, ...]) -> list[Finding]:
    if value.startswith(("azureml:/", "/subscriptions/")):
        return _unpinned_uri(value, what, keys)
    if not value.startswith("azureml:"):
        return []  # a local path: the inline forms are judged by their mappings
    if "@" in value:
        label = value.split("@", 1)[1]
        return [Finding(f"{what} {value!r} floats ({label}); pin a version: azureml:<name>:<version>", keys)]
    if value.count(":") == 2 and value.endswith(":latest"):
        return [Finding(f"{what} {value!r} floats (latest); pin a version: azureml:<name>:<version>", keys)]
    if not _SHORT_PINNED.match(value):
        return [Finding(f"{what} {value!r} has no version; pin one: azureml:<name>:<version>", keys)]
    return []


def _unpinned_image(environment: Mapping[str, Any], keys: tuple[str, ...]) -> list[Finding]:
    image = environment.get("image")
    if not isinstance(image, str) or "@sha256:" in image:
        return []
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if tag and tag != "latest":
        return []
    return [
        Finding(
            f"environment image {image!r} is not pinned; use an explicit tag or @sha256 digest",
            (*keys, "image"),
        )
    ]


def _unversioned_model(model: Mapping[str, Any], keys: tuple[str, ...]) -> list[Finding]:
    """An inline model (a local folder, or a datastore path) is registered at apply time; without a
    version nothing in git names the version that serves, and the registry cannot be audited
    against the commit."""
    version = model.get("version")
    if version is not None and str(version).strip() and str(version).strip().lower() != "latest":
        return []
    return [
        Finding(
            f"inline model {model.get('path')!r} has no version (it is registered at apply time; the "
            "commit names no version to serve); register it with a `version:` and reference azureml:<name>:<version>, or give the "
            "inline model a `name:` and `version:`",
            keys,
        )
    ]


def unpinned(value: Any, what: str, *keys: str) -> list[Finding]:
    """A reference (or an inline environment's image, or an inline model without a version) that
    does not name an exact version. Inline code in git is pinned by the commit."""
    if isinstance(value, str):
        return _unpinned_ref(value, what, keys)
    if isinstance(value, Mapping) and what == "environment":
        return _unpinned_image(value, keys)
    if isinstance(value, Mapping) and what == "model":
        return _unversioned_model(value, keys)
    return []


def unpinned_versions(deployment: Mapping[str, Any]) -> list[Finding]:
    """The deployment's model, environment and registered code each name an exact version."""
    found = [f for key in ("model", "environment") for f in unpinned(deployment.get(key), key, key)]
    conf = deployment.get("code_configuration")
    code = conf.get("code") if isinstance(conf, Mapping) else None
    if isinstance(code, str) and code.startswith(("azureml:", "/subscriptions/")):
        found += unpinned(code, "code", "code_configuration", "code")
    return found


# ---------------------------------------------------------------------- monitor data collection
_DEPLOYMENT_REF = re.compile(r"^azureml:([^:/]+):([^:/]+)$")


@dataclass(frozen=True)
class DeclaredDeployment:
    data: Mapping[str, Any]
    file: str


# The deployments declared under an endpoint of the environment (by name), None when the endpoint
# is not declared: validate reads its loaded state, the checkov check the environment's folder.
DeploymentsOf = Callable[[str], Mapping[str, DeclaredDeployment] | None]


def monitor_target_ref(monitor: Mapping[str, Any]) -> str | None:
    create = monitor.get("create_monitor")
    target = create.get("monitoring_target") if isinstance(create, Mapping) else None
    ref = target.get("endpoint_deployment_id") if isinstance(target, Mapping) else None
    return str(ref) if ref else None


def missing_collections(deployment: Mapping[str, Any]) -> list[str]:
    collector = deployment.get("data_collector")
    collections = collector.get("collections") if isinstance(collector, Mapping) else None
    collections = collections if isinstance(collections, Mapping) else {}
    return [
        c
        for c in COLLECTIONS
        if not isinstance(collections.get(c), Mapping) or not is_true(collections[c].get("enabled"))
    ]


def _target_findings(endpoint: str, deployment: str, deployments_of: DeploymentsOf) -> list[Finding]:
    declared = deployments_of(endpoint)
    if declared is None:
        return [
            Finding(
                f"monitor targets endpoint {endpoint!r}, which is not declared in this environment",
                MONITOR_TARGET_KEYS,
            )
        ]
    dep = declared.get(deployment)
    if dep is None:
        return [
            Finding(
                f"monitor targets deployment {deployment!r}, which is not declared under endpoint "
                f"{endpoint!r}",
                MONITOR_TARGET_KEYS,
            )
        ]
    missing = missing_collections(dep.data)
    if missing:
        return [
            Finding(
                f"monitor needs deployment {endpoint}/{deployment} to collect {' and '.join(missing)}; add "
                f"data_collector.collections.<name>.enabled: 'true' in {dep.file}",
                MONITOR_TARGET_KEYS,
            )
        ]
    return []


def monitor_target(
    ref: str | None, deployments_of: DeploymentsOf
) -> tuple[tuple[str, str] | None, list[Finding]]:
    """The (endpoint, deployment) a monitor watches and what is wrong with it: it must be a
    deployment of this environment that collects the inputs and outputs the monitor reads, or the
    monitor fails on its first run, days later. A monitor with no deployment target has nothing
    to check here."""
    if ref is None:
        return None, []
    match = _DEPLOYMENT_REF.match(ref)
    if not match:
        return None, [
            Finding(
                f"endpoint_deployment_id {ref!r} must be azureml:<endpoint>:<deployment> "
                "of a declared deployment",
                MONITOR_TARGET_KEYS,
            )
        ]
    endpoint, deployment = match.group(1), match.group(2)
    return (endpoint, deployment), _target_findings(endpoint, deployment, deployments_of)


# ------------------------------------------------------------------- exposure in production
def public_access_disabled(value: Any) -> bool:
    """Azure's default for a missing setting is public, so only an explicit Disabled counts."""
    return str(value or "").strip().lower() == "disabled"


def endpoint_exposure(endpoint: Mapping[str, Any]) -> list[Finding]:
    """A production endpoint is private and authenticates callers with Entra ID or Azure ML tokens
    (keys never expire and are shared by every caller)."""
    found = []
    if not public_access_disabled(endpoint.get("public_network_access")):
        found.append(
            Finding(
                "a production endpoint must not be reachable from the internet: set "
                "public_network_access: disabled (callers come through the workspace's private endpoint)",
                ("public_network_access",),
            )
        )
    if endpoint.get("auth_mode") not in TOKEN_AUTH_MODES:
        found.append(
            Finding(
                "a production endpoint authenticates callers with tokens: set auth_mode: aad_token "
                "(or aml_token); keys never expire",
                ("auth_mode",),
            )
        )
    return found


def deployment_exposure(deployment: Mapping[str, Any]) -> list[Finding]:
    """A production deployment reaches its model, image and data through private endpoints only."""
    if public_access_disabled(deployment.get("egress_public_network_access")):
        return []
    return [
        Finding(
            "a production deployment must not reach the internet: set egress_public_network_access: "
            "disabled (it reads its model, image and data through the workspace's private endpoints)",
            ("egress_public_network_access",),
        )
    ]
