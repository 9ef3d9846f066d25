"""Blueprints, one per audience: thin views that parse, call a service and render."""
