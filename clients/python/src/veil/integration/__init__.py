"""Integrations with data science platforms."""

from . import domino

__all__ = ["domino"]
