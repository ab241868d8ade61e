"""Pulumi entry point (`Pulumi.yaml` -> `main: platform/`): one Azure ML platform per stack."""

import pulumi

from mlplatform import config, program

try:
    settings = config.from_pulumi()
except config.ConfigError as err:
    # RunError is shown to the user without a Python traceback.
    raise pulumi.RunError(f"invalid stack configuration:\n{err}") from None

for key, value in program.build(settings).items():
    pulumi.export(key, value)
