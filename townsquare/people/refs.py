"""What a connector knows about a message's author, before it is an Identity row.

People owns it because ``identities_resolve`` keys identities on it; the connectors (in sources, above
people) build it from each platform's user data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class IdentityRef:
    """Who wrote a message, as the platform knows them. ``realm`` + ``external_id`` is the identity key.

    Mutable: a connector may fill in a field it learns later (a GitHub user's public email).
    """

    realm: str
    external_id: str
    handle: str = ""
    display_name: str = ""
    email: str = ""
    email_verified: bool = False
    is_bot: bool = False
    seen_at: datetime | None = None  # when the author was seen: a new member's first/last seen

    @property
    def key(self) -> tuple[str, str]:
        return (self.realm, self.external_id)

    def normalised(self) -> IdentityRef:
        email = self.email.strip().lower()
        if "@" not in email or len(email) > 254:
            email = ""
        return IdentityRef(
            realm=self.realm.strip()[:200],
            external_id=str(self.external_id).strip()[:255],
            handle=self.handle.strip()[:255],
            display_name=" ".join(self.display_name.split())[:255],
            email=email,
            email_verified=bool(self.email_verified and email),
            is_bot=bool(self.is_bot),
            seen_at=self.seen_at,
        )
