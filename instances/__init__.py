"""Instance generators: set cover, combinatorial auction, independent set, facility location."""

from mipguide.instances.registry import Family, Size, generate, generate_with, parse_seeds

__all__ = ["Family", "Size", "generate", "generate_with", "parse_seeds"]
