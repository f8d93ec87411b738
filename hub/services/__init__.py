"""The hub's services: the rules of every HTTP action, written once for the API and the pages.

Each function takes the unit of work (or a read connection), the principal and the input, and
returns typed results or raises from ``hub.errors``. Adapters (``hub.api``, ``hub.web``) only
parse, call and present."""
