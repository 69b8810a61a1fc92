"""Townsquare: the self-hosted hub where a DevRel team, its community and its company meet."""

__version__ = "0.1.0"
