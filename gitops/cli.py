"""The `mlops` command.

Subcommands come from modules listed in ``SUBCOMMAND_MODULES``; each exposes
``register(subparsers)`` that adds its parsers and sets ``func`` (``args -> exit code``).
To add a command, write such a module and list it here. Modules that are not present yet are
skipped, so the list may name commands other teams are still building. ``register`` must be
cheap: import heavy libraries inside the command function, not at module level.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gitops.errors import GitopsError, InputErrors

SUBCOMMAND_MODULES: tuple[str, ...] = (
    "gitops.commands",  # validate, plan, apply, status
    "gitops.targets.local.commands",  # down, get-credentials, models (local target)
    "mlplatform.cli",  # render (platform team)
    "gitops.demo",  # demo
    "gitops.monitoring.cli",  # monitor run
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops", description="GitOps for Azure ML online endpoints")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        module.register(subparsers)
    return parser


def _json_error(
    args: argparse.Namespace, kind: str, message: str, diagnostics: list[str] | None = None
) -> None:
    """With `--output json`, a refusal is machine-readable too (stdout), beside the text on stderr."""
    if getattr(args, "output", None) != "json":
        return
    import json

    payload: dict[str, object] = {"ok": False, "error": kind, "message": message}
    if diagnostics is not None:
        payload["diagnostics"] = diagnostics
    print(json.dumps(payload))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except InputErrors as exc:
        for d in exc.diagnostics:
            print(str(d), file=sys.stderr)
        print(f"{len(exc.diagnostics)} error(s); nothing was changed.", file=sys.stderr)
        _json_error(
            args, "invalid_input", "invalid input; nothing was changed", [str(d) for d in exc.diagnostics]
        )
        return 1
    except GitopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _json_error(args, type(exc).__name__, str(exc))
        return 1
    except Exception as exc:
        # Azure SDK failures (auth, permissions, throttling that outlived retries) are reported as
        # a one-line error; anything else is a bug and keeps its traceback.
        if not type(exc).__module__.startswith("azure."):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: Azure request failed: {type(exc).__name__}: {first}", file=sys.stderr)
        _json_error(args, "azure_request_failed", f"{type(exc).__name__}: {first}")
        return 1
    except KeyboardInterrupt:
        print("interrupted; re-run the same command to converge", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
