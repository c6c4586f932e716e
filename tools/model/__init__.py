"""kvshare's model tooling (tools/model/README.md). Run its modules from the repository root as
`python3 -m tools.model.<module>`; its tests with `python3 -m unittest discover -s tools/model/tests -t .`."""
