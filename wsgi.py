"""Entry point for gunicorn and the flask CLI."""
from trainer import create_app

app = create_app()
