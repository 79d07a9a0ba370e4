"""fundapp: fund management for community foundations."""

from __future__ import annotations

from flask import Flask


def create_app(config: type | dict | None = None) -> Flask:
    """Application factory. `config` is a config class or a dict of overrides; default from FUNDAPP_ENV."""
    from config import INSTANCE_DIR, config_from_env
    from fundapp.setup import init_app

    app = Flask(__name__, instance_path=str(INSTANCE_DIR), template_folder="../templates")
    app.config.from_object(config_from_env())
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    init_app(app)
    return app
