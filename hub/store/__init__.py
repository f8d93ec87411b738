"""Hub persistence (SQLAlchemy Core: SQLite embedded, PostgreSQL in production)."""
