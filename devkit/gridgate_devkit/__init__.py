"""gridgate's development kit: everything benches, tests and the demo need that a gate or a hub
does not.

- :mod:`gridgate_devkit.sim`: synthetic gate clips and the compound simulator with ground truth.
- :mod:`gridgate_devkit.evaluation`, :mod:`~gridgate_devkit.degrade`,
  :mod:`~gridgate_devkit.presets`: measuring the vision pipeline on labelled faces.
- :mod:`gridgate_devkit.localbroker`: a private Mosquitto for the demo, benches and tests.

It may import the product packages; they never import it (``tests/test_layout.py``).
"""

__version__ = "0.1.0"
