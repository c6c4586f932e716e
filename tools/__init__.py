"""kvshare's tooling; `tools.model` is a package, run from the repository root: python3 -m tools.model.<module>."""
