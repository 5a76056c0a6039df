"""mipguide service.pipeline package."""
