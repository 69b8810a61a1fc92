"""Telegram: the messages a bot sees in its groups, through Perceval's backend (Bot API ``getUpdates``).

The Bot API hands each update out until it is confirmed, and keeps no history from before the
bot joined: add the bot to the group first (with privacy mode off to see every message).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from townsquare.people.refs import IdentityRef
from townsquare.sources.connectors.base import ChannelRef, MessageRecord, Record, from_epoch
from townsquare.sources.connectors.perceval.base import API_URL_HELP, CLIENTS, PercevalConnector


class TelegramConnector(PercevalConnector):
    kind = "telegram"
    backend = f"{CLIENTS}.TelegramBackend"  # Perceval's Telegram, with api_url
    categories = ("message",)
    required = ("bot",)
    uses_from_date = False
    settings_help = {
        "bot": "the bot's username, e.g. acme_community_bot",
        "chats": "optional: only these chat ids, e.g. -1001234567890",
        "api_url": API_URL_HELP.format(default="https://api.telegram.org"),
    }
    secrets_help = "the bot token from @BotFather (privacy mode off, to read every group message)"

    def backend_args(self) -> dict[str, Any]:
        return {
            "bot": self.config["bot"],
            "bot_token": self.secrets().get("token") or "",
            "api_url": self.config.get("api_url") or None,
        }

    def fetch_args(self, cursor: dict[str, Any], category: str) -> dict[str, Any]:
        chats = [
            int(c) for c in str(self.config.get("chats") or "").replace(",", " ").split() if c.lstrip("-").isdigit()
        ]
        offset = int(cursor.get(f"offset:{category}") or 0)
        return {"offset": offset + 1 if offset else 1, "chats": chats or None}

    def checkpoint(self, item: dict[str, Any], category: str) -> dict[str, Any]:
        return {f"offset:{category}": int(item["data"]["update_id"])}

    def _stored_created_at(self, external_id: str) -> Any:
        from townsquare.sources.models import Message

        if self.source.pk is None:
            return None
        return (
            Message.objects.filter(source=self.source, external_id=external_id)
            .values_list("created_at", flat=True)
            .first()
        )

    def records(self, data: dict[str, Any], category: str) -> Iterator[Record]:
        message = data["message"]
        text = message.get("text") or message.get("caption") or ""
        if not text:
            return  # joins, photos without a caption, pinned-message notices
        chat = message.get("chat") or {}
        chat_id = str(chat["id"])
        sender = message.get("from") or {}
        name = " ".join(filter(None, [sender.get("first_name"), sender.get("last_name")]))
        public = chat.get("username")
        reply = (message.get("reply_to_message") or {}).get("message_id")
        topic = message.get("message_thread_id") if message.get("is_topic_message") else None
        external_id = f"{chat_id}:{message['message_id']}"
        when = from_epoch(message["date"])
        # Perceval gives an edit the edit's date in place of the original: keep the stored one.
        created = (self._stored_created_at(external_id) or when) if message.get("edited") else when
        yield MessageRecord(
            external_id=external_id,
            kind="chat",
            created_at=created,
            updated_at=when if message.get("edited") else None,
            channel=ChannelRef(
                external_id=chat_id,
                name=chat.get("title") or (f"@{public}" if public else chat_id),
                url=f"https://t.me/{public}" if public else "",
            ),
            author=IdentityRef(
                realm="telegram",
                external_id=str(sender["id"]),
                handle=sender.get("username") or "",
                display_name=name or sender.get("username") or "",
                is_bot=bool(sender.get("is_bot")),
            )
            if sender.get("id")
            else None,
            body=text,
            url=f"https://t.me/{public}/{message['message_id']}" if public else "",
            thread_external_id=f"{chat_id}:{topic}" if topic else "",
            parent_external_id=f"{chat_id}:{reply}" if reply else "",
        )
