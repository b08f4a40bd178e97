"""Detectors for bad records (AlpacaDataCleaned's problem classes and more): one module per
family, one registry (:mod:`curate.detectors.registry`), each finding an annotation with its
reason (docs/detectors.md)."""
