"""The metrics app's services, one module per part."""
