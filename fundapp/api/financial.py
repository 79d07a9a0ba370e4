"""Placeholder: these API routes are being written."""
