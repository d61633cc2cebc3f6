"""Personas, factories and helpers shared by the test suite (imported, never collected)."""
