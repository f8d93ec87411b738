"""Local persistence of the edge agent."""
