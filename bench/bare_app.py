"""The baseline: a bare Flask route under the same gunicorn settings as the real app."""
from flask import Flask

app = Flask(__name__)


@app.route("/")
def bare():
    return "ok"
