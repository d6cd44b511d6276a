"""The market plugin's schema revisions (its own Alembic branch)."""
