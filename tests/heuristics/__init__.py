"""Tests of service.heuristics."""
