"""A tiny example plugin: how a plugin is laid out, and what the core's tests drive."""
