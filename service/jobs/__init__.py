"""mipguide service.jobs package."""
