"""Repair: new outputs from a teacher for records the detectors marked ``repair``, written as
annotations with the old text kept (AlpacaDataCleaned regenerated such outputs by hand).
Entry point: :func:`curate.repair.regenerate.run_repair`. Imports only :mod:`curate.models` and
:mod:`curate.core`."""
