"""`mlops demo` (listed in gitops.cli.SUBCOMMAND_MODULES): implemented by the local target."""

from gitops.targets.local.demo import register

__all__ = ["register"]
