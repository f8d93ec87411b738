"""Occupancy-change analysis over the edge's own event history."""
