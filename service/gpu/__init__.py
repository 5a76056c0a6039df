"""mipguide service.gpu package."""
