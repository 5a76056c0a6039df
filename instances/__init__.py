"""mipguide instances package."""
