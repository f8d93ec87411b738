"""Runtime support shared by the edge agent and the hub: the MQTT link, configuration loading,
secrets and logging. Nothing here knows about faces, registries or tasks; the wire contract
itself lives in :mod:`gridgate_wire`.
"""

__version__ = "0.1.0"
