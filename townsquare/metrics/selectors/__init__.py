"""The metrics app's reads, one module per part."""
