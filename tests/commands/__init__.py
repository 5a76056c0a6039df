"""Tests of mipguide.commands."""
