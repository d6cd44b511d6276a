"""The heating plugin's schema revisions (Alembic branch ``heating``)."""
