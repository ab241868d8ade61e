"""How much the loader accepts before it refuses a file."""

from __future__ import annotations

from dataclasses import dataclass

# Azure Resource Manager limits a template to 4 MB and each resource definition in it to 1 MB
# (https://learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits);
# an endpoint, deployment or monitor file becomes one resource's request body, so 1 MB of YAML
# is already more than Azure would take, and anything near 4 MB could never be sent at all.
ONE_MB = 1_000_000
ARM_NOTE = (
    "Azure Resource Manager refuses a template over 4 MB and a resource definition over 1 MB, "
    "so a larger file could not be deployed anyway"
)


@dataclass(frozen=True)
class Limits:
    # Checked on the file's size before a byte of it is parsed.
    max_bytes: int = ONE_MB
    # Nodes the document may produce with every alias expanded: a few hundred for a real
    # deployment, billions for a 1 KB "billion laughs" file.
    max_nodes: int = 100_000
    # Nesting of mappings and sequences (aliases expanded); Azure ML specs nest under ten deep.
    max_depth: int = 64
    # Added to the size-cap message: why the cap is where it is for this kind of file.
    size_note: str = ARM_NOTE


DEFAULT_LIMITS = Limits()
