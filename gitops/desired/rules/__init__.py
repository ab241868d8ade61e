"""The checks git's YAML must pass beyond azure-ai-ml's own schema: what Azure would only reject at
apply time (or never). One module per family; every rule returns ``file:line`` diagnostics and
reads nothing from disk but what it is given.
"""
