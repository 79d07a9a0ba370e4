from flask import Blueprint

bp = Blueprint("funds", __name__, url_prefix="/funds")
