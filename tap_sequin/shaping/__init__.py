"""Shaping: raw objects from the API into rows of the streams' schemas.

Pure functions and small classes with no I/O: redaction of secrets, timestamps to UTC,
health objects flattened into columns, problems warned about once and counted.
"""
