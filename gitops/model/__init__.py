"""The reconciler's vocabulary: enums, addresses, traffic and tags. Pure values, no I/O, no SDK.

Every other room speaks in these terms; this room imports nothing else of ``gitops`` but
:mod:`gitops.errors`.
"""
