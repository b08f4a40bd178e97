"""Cleaning stages: ingest (validate, quarantine), dedupe, detect and clean (apply decisions)."""
