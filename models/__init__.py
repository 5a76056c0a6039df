"""mipguide models package."""
