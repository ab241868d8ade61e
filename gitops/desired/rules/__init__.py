"""The checks git's YAML must pass beyond azure-ai-ml's own schema: what Azure would only reject at
apply time (or never). One module per family; every rule returns ``file:line`` diagnostics and
works on documents already parsed (the one file read here is a rollout's smoke request body, read
with its strategy so that planning reads no files).
"""
