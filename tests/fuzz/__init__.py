"""Fuzz tests (issue #9): hypothesis over the staff forms, the donation import and the public JSON API, and
schemathesis over /api/v1/openapi.json. Nothing may answer 5xx, and a refused request writes nothing."""
