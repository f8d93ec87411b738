"""Hub persistence (SQLAlchemy Core: SQLite embedded, PostgreSQL in production)."""

# The door tables live in their own module but in the schema's metadata: importing the
# package registers them wherever the schema is used.
from hub.store import doors as doors
