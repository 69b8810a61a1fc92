from __future__ import annotations


class TownsquareError(Exception):
    """A failure a user can act on: the message names the record and the reason.

    ``permanent`` says whether retrying the same operation can help (connectors,
    deliveries); ``record`` identifies the offending row or input record.
    """

    def __init__(self, message: str, *, record: object = None, permanent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.record = record
        self.permanent = permanent

    def __str__(self) -> str:
        if self.record is None:
            return self.message
        return f"{self.record}: {self.message}"
