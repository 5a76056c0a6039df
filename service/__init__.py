"""mipguide service package."""
