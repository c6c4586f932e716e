"""Evaluation of a served model (tools/model/README.md): `python3 -m tools.model.eval.<module>`."""
