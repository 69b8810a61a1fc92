"""The updates app's writes, one module per part."""
