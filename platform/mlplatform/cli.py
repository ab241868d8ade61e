"""`mlops render`: what a stack would deploy, computed offline under Pulumi's mocks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render what a Pulumi stack would deploy, offline (no Azure, no Pulumi CLI)",
        description="Run the platform program under Pulumi's mocks with a stack's config and write "
        "the captured resources as JSON.",
    )
    parser.add_argument("--stack", required=True, help="stack name (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--stack-file", type=Path, help="use this stack file instead of Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="write the capture here (default: only print the summary)")
    parser.add_argument(
        "--format",
        choices=("json", "arm"),
        default="json",
        help="json: the resource capture; arm: ARM template",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from . import render
    from .config import ConfigError

    try:
        capture = render.render(args.stack, args.stack_file)
    except ConfigError as err:
        print(f"error: invalid stack configuration\n{err}", file=sys.stderr)
        return 1
    if args.format == "arm":
        from . import arm

        try:
            document = arm.to_template(capture)
        except arm.SuppressionError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        if args.out:
            arm.write(document, args.out)
    elif args.out:
        render.write(capture, args.out)
    print(render.format_summary(capture))
    if args.out:
        print(f"wrote {args.out}")
    return 0
