"""Native libraries that must be loaded in a fixed order.

onnxruntime crashes the process (a segmentation fault while loading its shared library) when usearch
was loaded before it; the other way round both work. Every use of usearch goes through here.
"""

from __future__ import annotations

from typing import Any


def usearch_index_class() -> Any:
    try:
        import onnxruntime  # noqa: F401  (load first; see above)
    except ImportError:  # the torch runtime works without it
        pass
    from usearch.index import Index

    return Index
