"""Storage: SQLAlchemy models, the engine and the session helpers."""
