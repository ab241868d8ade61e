"""Progressive rollouts: canary steps, metric gates against the serving deployment, automatic rollback.

``spec`` loads the strategy (rollout.yml + environment defaults) and expands it into the steps a
plan shows; ``gates`` is the pure decision engine; ``providers`` fetch metric windows (local router
counters, Azure Monitor); ``runner`` executes one rollout action and records its progress on the
target so an interrupted apply resumes at its step.
"""
