"""gridgate edge agent: the program in a compound's guard room.

It reads gate cameras and credential readers, decides every passage, keeps every event in a
local store with a durable outbox, and talks to the hub over MQTT. Face data never leaves it.
"""

from gridgate_core import __version__

__all__ = ["__version__"]
