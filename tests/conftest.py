"""Shared test configuration; the fixtures themselves come from the kefu.testing plugin."""
