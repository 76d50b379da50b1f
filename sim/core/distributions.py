"""Random durations as scale families, sampled from uniforms.

Each duration family is normalised to mean 1 and scaled by a mean that may differ
between patients (length of stay by age and frailty, for instance). Samples are
drawn by inverse transform from uniform numbers. That keeps common random numbers
aligned across scenarios: a patient carries the same uniform into every scenario
and gets the same *relative* stay, whatever the mean in that scenario.

Families:

* ``exponential`` - memoryless; textbook queueing checks.
* ``lognormal`` - right-skewed with coefficient of variation ``cv``.
* ``gamma`` - shape ``1/cv**2``.
* ``mixed_exponential`` - short-stay and long-stay phases (Harrison & Millard's
  two-compartment model of bed occupancy; Faddy et al. 2009 found such phase-type
  fits beat a single lognormal for older patients' stays).
* ``fixed`` - deterministic.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from sim.config.schema import Duration


class UnitSampler:
    """Inverse-CDF sampler of a mean-1 duration family (vectorised)."""

    def __init__(self, spec: Duration) -> None:
        self.family = spec.distribution
        cv = spec.cv
        if self.family == "lognormal":
            self.sigma = math.sqrt(math.log1p(cv * cv))
            self.mu = -0.5 * self.sigma * self.sigma
        elif self.family == "gamma":
            self.shape = 1.0 / (cv * cv)
        elif self.family == "mixed_exponential":
            p, r = spec.short_share, spec.long_to_short_ratio
            self.p_short = p
            self.mean_short = 1.0 / (p + (1.0 - p) * r)
            self.mean_long = r * self.mean_short

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Mean-1 variates from uniforms in (0, 1)."""
        u = np.asarray(u, dtype=float)
        fam = self.family
        if fam == "exponential":
            return -np.log1p(-u)
        if fam == "lognormal":
            return np.exp(self.mu + self.sigma * special.ndtri(u))
        if fam == "gamma":
            return special.gammaincinv(self.shape, u) / self.shape
        if fam == "mixed_exponential":
            p = self.p_short
            short = u < p
            # reuse the uniform: rescale it within the chosen phase
            v = np.where(short, u / p, (u - p) / (1.0 - p))
            v = np.clip(v, 0.0, 1.0 - 1e-16)
            mean = np.where(short, self.mean_short, self.mean_long)
            return -np.log1p(-v) * mean
        if fam == "fixed":
            return np.ones_like(u)
        raise ValueError(f"unknown distribution {fam!r}")

    def residual(self, u_length: np.ndarray, u_point: np.ndarray) -> np.ndarray:
        """Mean-1-family *remaining* durations of those in progress at a random time.

        A stay in progress is length-biased (a stay twice as long is twice as
        likely to be found under way), and a uniform share of it remains. The
        length-biased law of each family is drawn exactly: gamma(k) gives
        gamma(k + 1), lognormal(mu, s) gives lognormal(mu + s^2, s), the
        exponential gamma(2), and a phase of the mixed exponential is chosen in
        proportion to its share of time (weight x mean). Sampling candidates in
        proportion to their length instead falls short on heavy tails (by about
        a tenth of the mean for the default stays).
        """
        u = np.asarray(u_length, dtype=float)
        fam = self.family
        if fam == "exponential":
            biased = special.gammaincinv(2.0, u)
        elif fam == "lognormal":
            biased = np.exp(self.mu + self.sigma**2 + self.sigma * special.ndtri(u))
        elif fam == "gamma":
            biased = special.gammaincinv(self.shape + 1.0, u) / self.shape
        elif fam == "mixed_exponential":
            w = self.p_short * self.mean_short  # share of time in the short phase
            short = u < w
            v = np.clip(np.where(short, u / w, (u - w) / (1.0 - w)), 0.0, 1.0 - 1e-16)
            biased = special.gammaincinv(2.0, v) * np.where(short, self.mean_short, self.mean_long)
        elif fam == "fixed":
            biased = np.ones_like(u)
        else:
            raise ValueError(f"unknown distribution {fam!r}")
        return biased * np.asarray(u_point, dtype=float)

    def one(self, u: float) -> float:
        """One mean-1 variate from one uniform: the value :meth:`from_uniform` gives.

        For durations that few patients use, drawing the uniform up front and
        converting it here on use is cheaper than converting every patient's:
        the gamma inverse CDF is an iterative solve (~0.5 us a value).
        """
        fam = self.family
        # the same formulas as from_uniform, on one float, with the C library's
        # log1p and exp (NumPy's vectorised ones may differ in the last bit on
        # CPUs with AVX-512; a given draw is always converted one way, so results
        # do not depend on it)
        if fam == "exponential":
            return -math.log1p(-u)
        if fam == "lognormal":
            return math.exp(self.mu + self.sigma * float(special.ndtri(u)))
        if fam == "gamma":
            return float(special.gammaincinv(self.shape, u)) / self.shape
        if fam == "mixed_exponential":
            p = self.p_short
            if u < p:
                return -math.log1p(-min(u / p, 1.0 - 1e-16)) * self.mean_short
            return -math.log1p(-min((u - p) / (1.0 - p), 1.0 - 1e-16)) * self.mean_long
        if fam == "fixed":
            return 1.0
        raise ValueError(f"unknown distribution {fam!r}")


def sampler(spec: Duration) -> UnitSampler:
    return UnitSampler(spec)
