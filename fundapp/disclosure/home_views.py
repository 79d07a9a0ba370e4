"""The public home page (placeholder until the home helper lands)."""

from __future__ import annotations

from flask import render_template

from fundapp.auth.decorators import public
from fundapp.disclosure.cache import cached_page
from fundapp.disclosure.views import bp


@bp.get("/")
@public
@cached_page
def home():
    return render_template("disclosure/home.html")
