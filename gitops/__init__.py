"""GitOps reconciler for Azure ML online endpoints, deployments and monitors."""

__version__ = "0.1.0"
