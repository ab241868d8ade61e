"""`mlops down | get-credentials | models register`: commands of the local target."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gitops.errors import GitopsError

DEFAULT_ENVIRONMENTS_DIR = "environments"


def _add_env(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", "-e", required=True, help="environment name (folder under environments/)")
    p.add_argument(
        "--environments",
        default=DEFAULT_ENVIRONMENTS_DIR,
        help="folder holding the environments (default: %(default)s)",
    )
    p.add_argument("--state-dir", help="override local.state_dir from environment.yaml")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("down", help="stop everything the local target runs for an environment")
    _add_env(p)
    p.set_defaults(func=cmd_down)

    p = subparsers.add_parser(
        "get-credentials",
        aliases=["keys"],
        help="show an endpoint's keys (auth_mode: key) or a fresh token (aml_token) on the local target",
    )
    _add_env(p)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--output", "-o", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_credentials)

    p = subparsers.add_parser("models", help="the local model registry")
    sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    sub.required = True
    r = sub.add_parser("register", help="copy a model file or folder in as the next version")
    _add_env(r)
    r.add_argument("--name", required=True)
    r.add_argument("--path", required=True, type=Path)
    r.add_argument("--description", default="")
    r.set_defaults(func=cmd_models_register)
    ls = sub.add_parser("list", help="list registered versions")
    _add_env(ls)
    ls.add_argument("--name")
    ls.set_defaults(func=cmd_models_list)


def _manifest(args: argparse.Namespace) -> Any:
    from gitops.manifest import load_manifest

    env_dir = Path(args.environments) / args.env
    if not env_dir.is_dir():
        raise GitopsError(f"environment {args.env!r} not found under {args.environments}/")
    return load_manifest(env_dir)


def cmd_down(args: argparse.Namespace) -> int:
    from gitops.targets.local.settings import engine_for

    engine = engine_for(_manifest(args), args.state_dir)
    stopped = engine.down()
    for s in stopped:
        print(f"stopped {s}")
    print(
        f"{args.env}: {'nothing was running' if not stopped else f'{len(stopped)} process group(s) stopped'}"
    )
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    from gitops.targets.local.settings import engine_for

    engine = engine_for(_manifest(args), args.state_dir)
    row = engine.store.endpoint(args.endpoint)
    if row is None:
        raise GitopsError(
            f"endpoint {args.endpoint} is not running locally in {args.env}; run `mlops apply --env {args.env} --target local`"
        )
    uri = engine.scoring_uri(args.endpoint)
    if row.auth_mode == "aml_token":
        token, expiry = engine.token(args.endpoint)
        data: dict[str, Any] = {
            "accessToken": token,
            "expiryTimeUtc": expiry,
            "tokenType": "Bearer",
            "scoringUri": uri,
        }
        secret = token
    else:
        primary, secondary = engine.keys(args.endpoint)
        data = {"primaryKey": primary, "secondaryKey": secondary, "scoringUri": uri}
        secret = primary
    if args.output == "json":
        print(json.dumps(data, indent=2))
        return 0
    for k, v in data.items():
        print(f"{k}: {v}")
    print("\ncall it:")
    print(
        f"  curl -s -X POST {uri} -H 'Authorization: Bearer {secret}' -H 'Content-Type: application/json' -d @samples/wine-classifier/sample-request.json"
    )
    return 0


def cmd_models_register(args: argparse.Namespace) -> int:
    from gitops.targets.local.registry import ModelRegistry
    from gitops.targets.local.settings import local_paths

    _, root = local_paths(_manifest(args), args.state_dir)
    model = ModelRegistry(root).register(args.name, args.path, description=args.description)
    print(f"registered azureml:{model.name}:{model.version} ({model.path})")
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from gitops.targets.local.registry import ModelRegistry
    from gitops.targets.local.settings import local_paths

    _, root = local_paths(_manifest(args), args.state_dir)
    reg = ModelRegistry(root)
    names = (
        [args.name]
        if args.name
        else sorted(p.name for p in root.iterdir() if p.is_dir())
        if root.is_dir()
        else []
    )
    for name in names:
        for v in reg.versions(name):
            print(f"azureml:{name}:{v}")
    return 0
