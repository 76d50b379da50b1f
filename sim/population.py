"""Registered population of the borough, split into strata.

Neighbourhood care is organised around GP practices grouped into neighbourhoods of
30-50k registered people. Demand is generated from *strata*, never from one
process per resident: each stratum is a (neighbourhood, age band, eFI frailty
band, care-home residence) cell with an expected head count. When a crisis
happens the model draws which stratum it came from, and so the person's
attributes, at that moment.

eFI frailty (Clegg et al. 2016) is defined for people aged 65 and over, so the
0-64 band is all "fit". Care-home residents are a separate stratum with their own
frailty mix and crisis rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config.schema import AGE_BANDS, FRAILTY_BANDS, PopulationConfig

AGE_0_64, AGE_65_74, AGE_75_84, AGE_85_PLUS = range(4)
FIT, MILD, MODERATE, SEVERE = range(4)


@dataclass(frozen=True)
class Strata:
    """Population strata as parallel arrays (one entry per stratum)."""

    neighbourhood: np.ndarray  # int index into names
    age: np.ndarray  # int, index into AGE_BANDS
    frailty: np.ndarray  # int, index into FRAILTY_BANDS
    care_home: np.ndarray  # bool
    size: np.ndarray  # float, expected registered persons
    names: tuple[str, ...]  # neighbourhood names

    def __len__(self) -> int:
        return len(self.size)

    @property
    def registered(self) -> float:
        return float(self.size.sum())

    @property
    def aged_65_plus(self) -> float:
        return float(self.size[self.age >= AGE_65_74].sum())

    @property
    def care_home_residents(self) -> float:
        return float(self.size[self.care_home].sum())

    def registered_by_neighbourhood(self) -> np.ndarray:
        return np.bincount(self.neighbourhood, weights=self.size, minlength=len(self.names))

    def aged_65_plus_by_neighbourhood(self) -> np.ndarray:
        older = self.age >= AGE_65_74
        return np.bincount(
            self.neighbourhood[older], weights=self.size[older], minlength=len(self.names)
        )

    def label(self, i: int) -> str:
        where = "care home" if self.care_home[i] else "own home"
        return (
            f"{self.names[self.neighbourhood[i]]} / {AGE_BANDS[self.age[i]]} / "
            f"{FRAILTY_BANDS[self.frailty[i]]} / {where}"
        )


def build_strata(pop: PopulationConfig) -> Strata:
    """Expand the population configuration into strata with expected head counts."""
    frailty_by_age = {
        AGE_65_74: np.array(pop.frailty_65_74.as_tuple()),
        AGE_75_84: np.array(pop.frailty_75_84.as_tuple()),
        AGE_85_PLUS: np.array(pop.frailty_85_plus.as_tuple()),
    }
    care_home_share = pop.care_home_share.as_tuple()
    care_home_frailty = np.array(pop.care_home_frailty.as_tuple())
    rows: list[tuple[int, int, int, bool, float]] = []
    for n_idx, nb in enumerate(pop.neighbourhoods):
        shares = (nb.age_shares or pop.age_shares).as_tuple()
        for age, share in enumerate(shares):
            people = nb.registered * share
            if age == AGE_0_64:
                home, in_care = people * (1 - care_home_share[age]), people * care_home_share[age]
                rows.append((n_idx, age, FIT, False, home))
                if in_care > 0:
                    rows.append((n_idx, age, FIT, True, in_care))
                continue
            in_care = people * care_home_share[age]
            at_home = people - in_care
            for fr in range(4):
                rows.append((n_idx, age, fr, False, at_home * frailty_by_age[age][fr]))
            for fr in range(4):
                rows.append((n_idx, age, fr, True, in_care * care_home_frailty[fr]))
    arr = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return Strata(
        neighbourhood=np.asarray(arr[0], dtype=np.int64),
        age=np.asarray(arr[1], dtype=np.int64),
        frailty=np.asarray(arr[2], dtype=np.int64),
        care_home=np.asarray(arr[3], dtype=bool),
        size=np.asarray(arr[4], dtype=float),
        names=tuple(n.name for n in pop.neighbourhoods),
    )
