"""The ecommerce plugin's schema revisions (its own Alembic branch)."""
