"""The updates app's reads, one module per part."""
