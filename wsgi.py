"""Entry point for gunicorn and the flask CLI."""
import gc

from trainer import create_app

app = create_app()
# What start-up made (the app, its models, templates, compiled statements) lives as long as the worker:
# the garbage collector need not scan it again on every full collection during a rush.
gc.freeze()
