"""The notes plugin's schema revisions (Alembic)."""
