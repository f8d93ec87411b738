"""The edge agent's link to the hub."""
