"""The complaints plugin's schema revisions (Alembic branch ``complaints``)."""
