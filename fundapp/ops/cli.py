"""Placeholder: `flask backup` and `flask restore` are being written."""

from __future__ import annotations

import click

commands: list[click.Command] = []
