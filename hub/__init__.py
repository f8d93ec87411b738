"""gridgate hub: ingests edge messages, keeps the registry, turns alerts into visit tasks.

It never receives a face image or template: the wire contract has no field for one.
"""

from gridgate_core import __version__

__all__ = ["__version__"]
