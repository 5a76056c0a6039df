"""Tests of mipguide.gpu."""
