"""State a worker keeps between batches: the device and an LRU cache of device matrices."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mipguide.gpu.protocol import WorkerConfig


@dataclass
class WorkerContext:
    """Handlers receive this; ``cached`` builds a device object once per key."""

    config: WorkerConfig
    cache: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    hits: int = 0
    misses: int = 0

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key in self.cache:
            self.cache.move_to_end(key)
            self.hits += 1
            return self.cache[key]
        self.misses += 1
        value = build()
        self.cache[key] = value
        while len(self.cache) > max(1, self.config.matrix_cache):
            self.cache.popitem(last=False)
        return value
