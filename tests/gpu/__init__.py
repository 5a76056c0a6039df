"""Tests of service.gpu."""
