"""The feedback pipeline as plain functions: no Django needed to import or run them.

text (prepare) -> embed -> classify / cluster / rank / key phrases.
The product (services, tasks, commands) and the quality benchmark call the same code.
"""
