"""Tests of service.commands."""
