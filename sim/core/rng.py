"""Named random streams for common random numbers.

Every stochastic element of the model draws from its own stream, addressed by the
triple (root seed, replication, stream name). The stream name is hashed to a
stable integer and used as part of the ``SeedSequence`` spawn key, so:

* two scenarios run with the same seed and replication see the same demand and
  the same patient attributes wherever the flow allows (common random numbers);
* adding a new stream never shifts the numbers any other stream produces;
* results do not depend on the order in which streams are first used, nor on
  whether replications run serially or in parallel.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(name: str) -> int:
    """Stable 32-bit integer for a stream name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """Seed sequence of one replication: root entropy, replication in the spawn key."""
    return np.random.SeedSequence(entropy=root_seed, spawn_key=(replication,))


class RandomStreams:
    """Factory of named, independent ``numpy.random.Generator`` streams.

    Args:
        root_seed: The run's seed (``run.seed``).
        replication: Replication number, 0-based.
    """

    def __init__(self, root_seed: int, replication: int) -> None:
        self.root_seed = int(root_seed)
        self.replication = int(replication)
        self._streams: dict[str, np.random.Generator] = {}

    def seed_sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(
            entropy=self.root_seed, spawn_key=(self.replication, stream_key(name))
        )

    def get(self, name: str) -> np.random.Generator:
        """The generator for ``name`` (created on first use, then reused)."""
        gen = self._streams.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.seed_sequence(name)))
            self._streams[name] = gen
        return gen

    def names(self) -> list[str]:
        """Names of the streams used so far, sorted."""
        return sorted(self._streams)
