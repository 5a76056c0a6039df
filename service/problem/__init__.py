"""mipguide service.problem package."""
