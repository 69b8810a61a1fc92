"""The metrics app's models, one module per area (health here; downloads beside it)."""

from __future__ import annotations

from townsquare.metrics.models.health import ChannelMap, ConsolidationScenario, HealthFigures, HealthSnapshot

__all__ = ["ChannelMap", "ConsolidationScenario", "HealthFigures", "HealthSnapshot"]
