"""Tests of mipguide.heuristics."""
