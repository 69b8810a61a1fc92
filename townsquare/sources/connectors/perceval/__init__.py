"""Perceval (GrimoireLab) backends as connectors: ``base`` holds the adapter, one module per kind."""
