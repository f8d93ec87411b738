"""Gate decisions, door actuators and non-face credential readers."""
