"""Errors raised by schema-guided extraction."""

from __future__ import annotations


class ExtractionError(Exception):
    """Nothing on the page matched the schema well enough to produce valid data."""


class InvalidSchemaError(ValueError):
    """The schema given is not a JSON Schema object."""
