"""Local evaluation of Azure ML model monitors: the same signals and metrics as Azure, on the
local target's collected data."""
