"""The ``mlops`` command: one table naming every command and the module that implements it.

This is where the two halves of the project meet: the reconciler (``gitops``) and the Pulumi
platform program (``mlplatform``) do not import each other; the app imports both. A module in
the table exposes ``register(subparsers)``, which adds its parsers and sets ``func``
(``args -> exit code``); ``register`` must stay cheap (heavy libraries are imported inside the
command functions), so that ``mlops --help`` starts fast. A target's own commands come from the
target registry (:func:`gitops.targets.command_registrar`).

A command whose module (or a library it needs) cannot be imported still appears in ``--help``,
marked unavailable, and fails alone, with exit 1 and a line saying what is missing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from gitops.errors import GitopsError, InputErrors

Registrar = Callable[[Any], None]
TARGET_SOURCE = "target:"  # a source "target:<kind>" is the commands of that target plugin


@dataclass(frozen=True)
class Command:
    name: str
    source: str  # a module exposing register(subparsers), or "target:<kind>"


COMMANDS: tuple[Command, ...] = (
    Command("validate", "gitops.commands"),
    Command("plan", "gitops.commands"),
    Command("apply", "gitops.commands"),
    Command("status", "gitops.commands"),
    Command("monitor", "gitops.monitoring.cli"),
    Command("render", "mlplatform.cli"),
    Command("scan", "mlops.scan"),
    Command("demo", "mlops.demo"),
    Command("down", "target:local"),
    Command("get-credentials", "target:local"),
    Command("models", "target:local"),
)

# Tests replace it to simulate a module that cannot be imported.
import_module: Callable[[str], Any] = importlib.import_module


def _registrar(source: str) -> Registrar:
    """Import what implements the source's commands; ImportError when a dependency is missing."""
    if source.startswith(TARGET_SOURCE):
        targets = import_module("gitops.targets")
        registrar: Registrar = targets.command_registrar(source.removeprefix(TARGET_SOURCE))
        return registrar
    module = import_module(source)
    register: Registrar = module.register
    return register


def _sources(commands: Sequence[Command]) -> dict[str, list[str]]:
    """Command names per source, in table order (a source's commands are registered together)."""
    by_source: dict[str, list[str]] = {}
    for command in commands:
        by_source.setdefault(command.source, []).append(command.name)
    return by_source


def _unavailable(name: str, reason: str, _args: argparse.Namespace) -> int:
    print(f"error: `mlops {name}` is unavailable: {reason}", file=sys.stderr)
    return 1


def _add_unavailable(subparsers: Any, names: list[str], source: str, exc: Exception) -> None:
    reason = f"{source} cannot be imported ({type(exc).__name__}: {exc})"
    for name in names:
        p = subparsers.add_parser(name, help=f"UNAVAILABLE: {reason}", add_help=False)
        # Whatever arguments were given are left for main() to ignore: the command cannot run anyway.
        p.set_defaults(func=partial(_unavailable, name, reason), unavailable=True)


def _check_registered(source: str, names: list[str], before: set[str], subparsers: Any) -> None:
    """The table must name exactly the commands a source registers (aliases aside)."""
    added = {n: p for n, p in subparsers.choices.items() if n not in before}
    missing = [n for n in names if n not in added]
    named = {id(added[n]) for n in names if n in added}
    unlisted = sorted(n for n, p in added.items() if id(p) not in named)
    if missing or unlisted:
        raise RuntimeError(
            f"mlops/cli.py COMMANDS is out of date for {source}: "
            f"not registered {missing or 'none'}, not in the table {unlisted or 'none'}"
        )


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops", description="GitOps for Azure ML online endpoints, and the platform they run on"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for source, names in _sources(commands).items():
        try:
            registrar = _registrar(source)
        except (ImportError, GitopsError) as exc:
            _add_unavailable(subparsers, names, source, exc)
            continue
        before = set(subparsers.choices)
        registrar(subparsers)
        _check_registered(source, names, before, subparsers)
    return parser


def _json_error(
    args: argparse.Namespace, kind: str, message: str, diagnostics: list[str] | None = None
) -> None:
    """With `--output json`, a refusal is machine-readable too (stdout), beside the text on stderr."""
    if getattr(args, "output", None) != "json":
        return
    payload: dict[str, object] = {"ok": False, "error": kind, "message": message}
    if diagnostics is not None:
        payload["diagnostics"] = diagnostics
    print(json.dumps(payload))


def _input_errors(args: argparse.Namespace, exc: InputErrors) -> int:
    for d in exc.diagnostics:
        print(str(d), file=sys.stderr)
    print(f"{len(exc.diagnostics)} error(s); nothing was changed.", file=sys.stderr)
    _json_error(
        args, "invalid_input", "invalid input; nothing was changed", [str(d) for d in exc.diagnostics]
    )
    return 1


def _missing_dependency(args: argparse.Namespace, exc: ModuleNotFoundError) -> int:
    # Our own packages missing a module is a bug, not an installation problem: keep the traceback.
    if exc.name is None or exc.name.split(".")[0] in ("gitops", "mlops", "mlplatform"):
        raise exc
    message = (
        f"`mlops {args.command}` needs the Python module {exc.name!r}, which is not installed; "
        "install the project with its dependencies (make venv)"
    )
    print(f"error: {message}", file=sys.stderr)
    _json_error(args, "missing_dependency", message)
    return 1


def _azure_error(args: argparse.Namespace, exc: Exception) -> int:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    print(f"error: Azure request failed: {type(exc).__name__}: {first}", file=sys.stderr)
    _json_error(args, "azure_request_failed", f"{type(exc).__name__}: {first}")
    return 1


def run(args: argparse.Namespace) -> int:
    """Call the command and turn the failures people can fix into one line and exit 1."""
    try:
        code: int = args.func(args)
    except InputErrors as exc:
        return _input_errors(args, exc)
    except GitopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _json_error(args, type(exc).__name__, str(exc))
        return 1
    except ModuleNotFoundError as exc:
        return _missing_dependency(args, exc)
    except Exception as exc:
        # Azure SDK failures (auth, permissions, throttling that outlived retries) are reported as
        # a one-line error; anything else is a bug and keeps its traceback.
        if not type(exc).__module__.startswith("azure."):
            raise
        return _azure_error(args, exc)
    except KeyboardInterrupt:
        print("interrupted; re-run the same command to converge", file=sys.stderr)
        return 1
    return code


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "unavailable", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run(_parse(build_parser(), argv))


if __name__ == "__main__":
    sys.exit(main())
