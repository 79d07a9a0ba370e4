"""Placeholder: routes for this area of the public site are being written."""
