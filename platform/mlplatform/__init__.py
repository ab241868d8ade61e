"""The Azure ML platform as a Pulumi program.

Imported as ``mlplatform`` (never as ``platform``: that name belongs to the standard library).
"""
