"""Queueing formulas the model reduces to, for validation.

With every stage but acute beds switched off, Poisson admissions and exponential
stays, the bed pool is an M/M/c queue (``beds.when_full: queue``) or an Erlang
loss system M/M/c/c (``divert``). These functions give the textbook answers the
tests and benchmarks compare the simulation against.

Notation: ``c`` servers (beds), offered load ``a = lambda / mu`` (arrival rate x
mean stay), utilisation ``rho = a / c``.
"""

from __future__ import annotations

import math


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of the Erlang loss system M/M/c/c (stable recursion)."""
    if c < 0 or a < 0:
        raise ValueError("c and a must be >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (requires a < c)."""
    if a >= c:
        raise ValueError("M/M/c is unstable unless a < c")
    b = erlang_b(c, a)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait(c: int, arrival_rate: float, mean_service: float) -> float:
    """Mean wait in queue Wq of M/M/c, in the time unit of ``mean_service``."""
    a = arrival_rate * mean_service
    return erlang_c(c, a) * mean_service / (c - a)


def poisson_z(observed: float, expected: float) -> float:
    """z-score of a Poisson count against its mean."""
    return (observed - expected) / math.sqrt(expected) if expected > 0 else math.inf
