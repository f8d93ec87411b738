"""Test brokers: the same private Mosquitto the demo uses."""

from gridgate_devkit.localbroker import LocalMosquitto as Mosquitto
from gridgate_devkit.localbroker import free_port, wait_port

__all__ = ["Mosquitto", "free_port", "wait_port"]
