"""trainer: train and certify microneedling practitioners."""
from __future__ import annotations

import os

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config -> extensions -> blueprints -> errors -> CLI."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, instance_relative_config=True,
                template_folder=os.path.join(root, "templates"), static_folder=os.path.join(root, "static"))
    from trainer.config import settings_from_environment

    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(settings_from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only as many hops as the deployer vouches for; the Host header is never taken from them.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)

    _init_extensions(app)
    _register_blueprints(app)
    from trainer.security import has_role
    app.jinja_env.globals["has_role"] = has_role
    from flask_login import current_user

    from trainer.time_zones import time_zone_options, to_local
    app.jinja_env.globals["time_zone_options"] = time_zone_options
    # Templates show times in the viewer's zone (their own, else their clinic's, else UTC).
    app.jinja_env.globals["local_time"] = lambda dt: to_local(dt, current_user)
    from trainer.views.errors import register_error_handlers
    register_error_handlers(app)
    from trainer import headers
    headers.init_app(app)
    from trainer.cli import register_cli
    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from trainer import models  # noqa: F401  (registers the tables)
    from trainer.database import configure_engine, read_mostly
    from trainer.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine(db.engine)

    @app.before_request
    def _choose_transaction_kind():
        from flask import request
        view = app.view_functions.get(request.endpoint)
        read_mostly(request.method in ("GET", "HEAD", "OPTIONS") or getattr(view, "writes_late", False))

    @app.teardown_request
    def _back_to_write_transactions(_exc):
        read_mostly(False)

    from trainer import sessions, sso
    sessions.init_app(app)
    sso.init_app(app)
    from trainer import task_queue
    task_queue.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from trainer.views import (
        admin,
        analysis,
        api,
        auth,
        author,
        bank_files,
        documents,
        jobs,
        learn,
        manage,
        practical,
        public,
        records,
        tokens,
    )

    for module in (auth, learn, manage, documents, tokens, author, bank_files, analysis, admin, practical, records,
                   public, api, jobs):
        app.register_blueprint(module.bp)
