"""What a batch step of the feedback pipeline reports back (every stage fills the fields it knows)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BatchResult:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    new_themes: int = 0
    proposals: int = 0
    touched_themes: set[int] = field(default_factory=set)
