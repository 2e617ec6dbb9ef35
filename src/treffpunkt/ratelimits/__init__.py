"""Counters for rate limits, shared by every app process: in the database or in Redis."""
