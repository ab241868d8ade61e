"""The `mlops` app: the command table (mlops.cli) and the demo, the one place that imports both
the reconciler (gitops) and the platform program (mlplatform)."""
