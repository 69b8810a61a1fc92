"""Discourse: topics and their posts, through the forum API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from townsquare.sources.connectors.base import Record
from townsquare.sources.connectors.discourse_archive import topic_records
from townsquare.sources.connectors.perceval.base import PercevalConnector


class DiscourseConnector(PercevalConnector):
    kind = "discourse"
    backend = "perceval.backends.core.discourse.Discourse"
    categories = ("topic",)
    required = ("url",)
    settings_help = {
        "url": "the forum, e.g. https://forum.example.com",
        "categories_names": '{"4": "Help"}: names for category ids (optional)',
    }
    secrets_help = '{"token": "...", "api_username": "..."}; none for a public forum'

    def backend_args(self) -> dict[str, Any]:
        secrets = self.secrets()
        return {
            "url": self.config["url"].rstrip("/"),
            "api_username": secrets.get("api_username") or None,
            "api_token": secrets.get("token") or None,
            **self.retry_args(),
        }

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        base = self.config["url"].rstrip("/")
        realm = self.config.get("realm") or f"discourse:{urlparse(base).hostname}"
        categories = {
            int(k) if str(k).isdigit() else k: v for k, v in (self.config.get("categories_names") or {}).items()
        }
        yield from topic_records(data, base=base, realm=realm, categories=categories, where=f"topic {data.get('id')}")
