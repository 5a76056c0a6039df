"""mipguide service.api package."""
