"""Levers and their evidence: what the web app's forms show for a setting.

A planner changes a scenario's settings in forms that show each setting's kind,
allowed values and the row of ``docs/evidence.md`` behind its default. These
tests check that the evidence document is read whole and right, that a lever
describes its setting as the schema does, that a form refuses exactly what the
configuration loader refuses, and that every key lever of the interventions and
services has its evidence written down.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest

from sim.config import ConfigError, from_mapping, load_config
from sim.config.evidence import (
    EvidenceRow,
    evidence_path,
    load_evidence,
    lookup,
    parse_evidence,
)
from sim.config.levers import Lever, key_levers, lever, levers, set_value
from sim.config.loading import compose_dict
from sim.config.schema import Config, TreatConfig

INTERVENTIONS = ("mdt", "care_homes", "treat", "pace", "seven_day")
SERVICES = ("step_up", "urgent_community_response", "virtual_wards", "chc")


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config("baseline")


@pytest.fixture(scope="module")
def plain() -> dict[str, Any]:
    return compose_dict("baseline")


@pytest.fixture(scope="module")
def rows() -> dict[str, EvidenceRow]:
    return load_evidence()


# --------------------------------------------------------------------------- evidence
def _count_parameter_rows(text: str) -> int:
    """Rows naming a parameter in the tables headed ``| parameter |``, counted
    line by line without the parser (code blocks skipped)."""
    count, in_table, in_code = 0, False, False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("|"):
            in_table = False
            continue
        if re.match(r"\|\s*parameter\s*\|", line):
            in_table = True
        elif in_table and line.startswith("| `"):
            count += 1
    return count


def test_every_parameter_row_of_the_document_is_read(rows) -> None:
    text = evidence_path().read_text(encoding="utf-8")
    parsed = parse_evidence(text)
    expected = _count_parameter_rows(text)
    assert expected > 200  # the document, not an empty file
    assert len({r.line for r in parsed}) == expected
    # one entry per parameter named, none named twice
    assert len(rows) == len(parsed)
    lines = text.splitlines()
    for row in parsed:
        source = lines[row.line - 1]
        assert source.startswith("| `"), row
        assert row.parameter.rpartition(".")[2].split("[")[0] in source, row


def test_known_rows_have_their_cells(rows) -> None:
    los = rows["treat.los_ratio"]
    assert (los.default, los.range, los.source) == ("0.8875", "0.85-1.0", "[Wright13]")
    assert los.status == "Q per shared evidence"
    assert "1 - 0.1125" in los.derived
    assert los.section.startswith("treat (")

    beds = rows["beds.acute"]
    assert (beds.default, beds.range, beds.status, beds.section) == ("400", "360-440", "C", "beds")

    # the unit-cost table's own columns: qualified headers, extra columns kept
    ae = rows["costs.ae_attendance"]
    assert (ae.default, ae.range, ae.source, ae.status) == (
        "148 (2016/17)",
        "140-220",
        "[HFMA17]",
        "Q",
    )
    assert dict(ae.extra) == {
        "restated 2023/24": "179.77",
        "holder / budget": "acute trust / pooled",
    }

    # an escaped pipe stays inside its cell
    assert "E[Z | N >= 1]" in rows["people.shape.age_65_74"].derived


def test_every_form_of_parameter_name_is_read(rows) -> None:
    # list items: [*] and [] (any item), [NAME] (one item)
    assert rows["population.neighbourhoods[*].registered"].default.startswith("NE 44,000")
    assert "population.neighbourhoods[SW2].age_shares" in rows
    assert rows["costs.budgets.partners[*].fixed_share"].range == "0-1"
    # several names in one cell: siblings of the first, or full paths
    assert rows["people.shape.age_85_plus"].default == "1.5"
    assert rows["discharge.p1_visits.final_visits"].range == "3-5 / 0.5-2"
    assert "discharge.p1_visits.delay_reason" in rows
    assert "costs.inflation_index" in rows and "costs.index_name" in rows
    # bare names in a table whose first row gave the block
    ucr = rows["urgent_community_response.travel_minutes"]
    assert (ucr.default, ucr.range) == ("25", "15-40")
    assert "urgent_community_response.rota_weekend" in rows
    # a top-level setting, and rules that are not settings
    assert rows["report"].default == "true"
    assert not [p for p in rows if not re.match(r"^[a-z_]", p)]


def test_a_small_document_in_every_form(tmp_path) -> None:
    text = """# Evidence
## one
| parameter | default | range | source | status | how derived |
|---|---|---|---|---|---|
| `blk.a` | 1 | 0-2 | [K] | Q | a \\| b |
| `b` | 2 | | none | R | bare: blk's |
| `blk.c.x`, `y` / `blk.d` | 3 | | | D | |
| (rule) not a setting | | | | R | |

```text
## not a heading
| parameter | default | range | source | status | how derived |
|---|---|---|---|---|---|
| `blk.in_code` | 9 | | | | |
```
### two
| parameter | default (year) | restated | range (2023/24) | source | status | how derived |
|---|---|---|---|---|---|---|
| `other.list[].z` | 5 (2019) | 6 | 4-8 | [S] | S | x |
"""
    path = tmp_path / "evidence.md"
    path.write_text(text, encoding="utf-8")
    rows = load_evidence(path)
    assert sorted(rows) == ["blk.a", "blk.b", "blk.c.x", "blk.c.y", "blk.d", "other.list[*].z"]
    assert rows["blk.a"].derived == "a | b" and rows["blk.a"].section == "one"
    assert rows["blk.c.y"].line == rows["blk.d"].line == 7
    z = rows["other.list[*].z"]
    assert (z.default, z.range, z.section, z.extra) == (
        "5 (2019)",
        "4-8",
        "two",
        (("restated", "6"),),
    )
    # read again when the file changes
    path.write_text(text.replace("| 1 | 0-2 |", "| 10 | 0-20 |"), encoding="utf-8")
    assert load_evidence(path)["blk.a"].default == "10"


def test_no_evidence_file_gives_no_rows(tmp_path, monkeypatch) -> None:
    assert load_evidence(tmp_path / "missing.md") == {}
    monkeypatch.setenv("NSIM_EVIDENCE", str(tmp_path / "missing.md"))
    assert evidence_path() == tmp_path / "missing.md"
    assert load_evidence() == {}
    assert lookup("treat.staff") is None


def test_evidence_path_is_the_checkouts_document(monkeypatch) -> None:
    monkeypatch.delenv("NSIM_EVIDENCE", raising=False)
    assert evidence_path() == Path(__file__).resolve().parents[1] / "docs" / "evidence.md"


# --------------------------------------------------------------------------- lookup
@pytest.mark.parametrize(
    ("path", "row"),
    [
        ("treat.staff", "treat.staff"),
        ("`treat.staff`", "treat.staff"),
        # list items: an index, in either spelling, finds the row for every item
        ("population.neighbourhoods.3.registered", "population.neighbourhoods[*].registered"),
        ("population.neighbourhoods[2].registered", "population.neighbourhoods[*].registered"),
        ("costs.budgets.partners[].fixed_share", "costs.budgets.partners[*].fixed_share"),
        (
            "costs.budgets.partners.1.commissions.social_care",
            "costs.budgets.partners[*].commissions",
        ),
        # a named item has its own row
        ("population.neighbourhoods[SW2].age_shares", "population.neighbourhoods[SW2].age_shares"),
        # a field of a mapping: the mapping's row
        ("population.frailty_65_74.fit", "population.frailty_65_74"),
        ("treat.calendar.weekend_share", "treat.calendar"),
        ("discharge.reablement.stay_days.mean", "discharge.reablement.stay_days"),
        # the document writes discharge.other_delays at the top level
        ("discharge.other_delays.housing.days.mean", "other_delays.housing.days"),
    ],
)
def test_lookup_finds_the_row(rows, path: str, row: str) -> None:
    found = lookup(path, rows)
    assert found is not None and found.parameter == row


def test_lookup_finds_nothing_where_there_is_nothing(rows) -> None:
    assert lookup("treat.rollout.start_day", rows) is None
    assert lookup("no_such_block.value", rows) is None
    assert lookup("population.neighbourhoods[2].age_shares", rows) is None  # SW2's only
    assert lookup("treat.staff", {}) is None


# --------------------------------------------------------------------------- levers
def _schema_field(cfg: Config, path: str) -> tuple[dataclasses.Field[Any], Any]:
    """The dataclass field and type the schema declares for ``path``."""
    block, *rest = path.split(".")
    cls: Any = type(cfg.block(block))
    for name in rest[:-1]:
        cls = get_type_hints(cls)[name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    return fields[rest[-1]], get_type_hints(cls)[rest[-1]]


def _expected_kind(tp: Any) -> str:
    args = [a for a in get_args(tp) if a is not type(None)] if get_origin(tp) else [tp]
    plain = [a for a in args if get_origin(a) is not Literal]
    if not plain:
        return "choice"
    (only,) = plain
    return {bool: "bool", int: "int", float: "float", str: "text"}[only]


def _value(cfg: Config, path: str) -> Any:
    block, *rest = path.split(".")
    obj = cfg.block(block)
    for name in rest:
        obj = getattr(obj, name)
    return obj


@pytest.mark.parametrize("block", INTERVENTIONS + SERVICES)
def test_key_levers_are_settings_of_the_schema(cfg, block: str) -> None:
    schema = type(cfg.block(block))
    assert schema.KEY_LEVERS, f"{schema.__name__} declares no KEY_LEVERS"
    found = key_levers(cfg, block)
    assert [lv.path for lv in found] == [f"{block}.{n}" for n in schema.KEY_LEVERS]
    for lv in found:
        f, tp = _schema_field(cfg, lv.path)
        assert lv.kind == _expected_kind(tp), lv.path
        for bound in ("ge", "gt", "le", "lt"):
            assert getattr(lv, bound) == f.metadata.get(bound), (lv.path, bound)
        assert lv.units == (f.metadata.get("units") or ""), lv.path
        assert lv.value == _value(cfg, lv.path), lv.path
        if lv.kind == "choice":
            assert set(lv.choices) >= {lv.value}


def _trial_values(lv: Lever) -> list[tuple[Any, bool]]:
    """Values to set, each with whether the field's own rule must refuse it."""
    step = 1 if lv.kind == "int" else 0.01
    trials: list[tuple[Any, bool]] = [(lv.value, False)]
    if lv.ge is not None:
        trials += [(lv.ge - step, True), (lv.ge, False)]
    if lv.gt is not None:
        trials += [(lv.gt, True)]
    if lv.le is not None:
        trials += [(lv.le + step, True), (lv.le, False)]
    if lv.lt is not None:
        trials += [(lv.lt, True)]
    trials.append(
        {"bool": ("yes", True), "int": (2.5, True), "float": ("many", True)}.get(
            lv.kind, ("no_such_choice", True)
        )
    )
    return trials


@pytest.mark.parametrize("block", INTERVENTIONS + SERVICES)
def test_a_lever_refuses_what_the_loader_refuses(cfg, plain, block: str) -> None:
    for lv in key_levers(cfg, block):
        for value, refused in _trial_values(lv):
            data = copy.deepcopy(plain)
            set_value(data, lv.path, value)
            try:
                from_mapping(data)
                raised = False
            except ConfigError:
                raised = True
            problem = lv.problem(value)
            assert raised == (problem is not None), (lv.path, value, problem)
            if refused:
                assert raised, (lv.path, value)


def test_a_lever_applies_the_blocks_and_the_configs_own_checks(cfg, plain) -> None:
    """Relations between settings: within a block, and across blocks."""
    conveyance = lever(cfg, "care_homes.conveyance_rate_ratio")
    assert "conveyance_rate_ratio" in (conveyance.problem(0.5) or "")  # below admissions' 0.82
    late = lever(cfg, "urgent_community_response.home_share_late")
    assert "home_share_in_time" in (late.problem(0.95) or "")
    # mdt.crisis_rate_ratio is bounded by demand.thinning_headroom, when mdt is on
    assert lever(cfg, "mdt.crisis_rate_ratio").problem(5.0) is None
    on = copy.deepcopy(plain)
    set_value(on, "mdt.enabled", True)
    assert "thinning_headroom" in (
        lever(from_mapping(on), "mdt.crisis_rate_ratio").problem(5.0) or ""
    )
    set_value(on, "mdt.crisis_rate_ratio", 5.0)
    with pytest.raises(ConfigError):
        from_mapping(on)


@pytest.mark.parametrize("block", INTERVENTIONS + SERVICES)
def test_every_key_lever_has_its_evidence(cfg, block: str) -> None:
    missing = [lv.path for lv in key_levers(cfg, block) if lv.evidence is None]
    assert not missing, f"no row in docs/evidence.md for {missing}"


def test_levers_flatten_nested_blocks_to_a_depth(cfg) -> None:
    shallow = {lv.path for lv in levers(cfg, "treat", depth=1)}
    deep = {lv.path: lv for lv in levers(cfg, "treat")}
    assert "treat.staff" in shallow and "treat.calendar.start_hour" not in shallow
    assert {"treat.calendar.start_hour", "treat.assessment_hours.mean"} <= set(deep)
    assert shallow <= set(deep)
    # lists and tuples are not levers
    assert not {"treat.eligible_ages", "treat.calendar.days", "treat.rollout.neighbourhoods"} & set(
        deep
    )
    assert deep["treat.calendar.start_hour"].label == "Calendar: start hour"
    assert deep["treat.assessment_hours.distribution"].kind == "choice"
    assert deep["treat.staff"].label == "Staff (TREAT clinicians on duty)"
    # a block inside a block
    reablement = {lv.path: lv for lv in levers(cfg, "discharge.reablement")}
    capacity = reablement["discharge.reablement.capacity"]
    assert (capacity.kind, capacity.value, capacity.ge) == ("int", 178, 0)
    # a number that may be a word; shares given where a word may stand
    occupancy = reablement["discharge.reablement.initial_occupancy"]
    assert (occupancy.kind, occupancy.choices) == ("float", ("steady_state",))
    assert reablement["discharge.reablement.attribution.social_care"].value == 0.63
    intermediate = {lv.path: lv for lv in levers(cfg, "discharge.intermediate_care")}
    attribution = intermediate["discharge.intermediate_care.attribution"]
    assert (attribution.kind, attribution.value) == ("choice", "nhs")
    # null allowed
    beds = lever(cfg, "virtual_wards.beds")
    assert (beds.kind, beds.value, beds.optional) == ("int", None, True)
    assert beds.problem(None) is None and beds.problem(-1) is not None


def test_key_levers_fall_back_to_the_first_level_settings(cfg) -> None:
    assert not hasattr(type(cfg.beds), "KEY_LEVERS")
    assert [lv.path for lv in key_levers(cfg, "beds")] == ["beds.acute", "beds.when_full"]
    assert [lv.path for lv in key_levers(cfg, "beds")] == [lv.path for lv in levers(cfg, "beds", 1)]


def test_a_key_lever_that_is_no_setting_is_an_error(cfg, monkeypatch) -> None:
    monkeypatch.setattr(TreatConfig, "KEY_LEVERS", ("enabled", "eligible_ages"))
    with pytest.raises(KeyError, match="eligible_ages"):
        key_levers(cfg, "treat")
    with pytest.raises(KeyError):
        levers(cfg, "treat.staff")
    with pytest.raises(KeyError):
        levers(cfg, "no_such_block")


def test_set_value_builds_nested_data() -> None:
    data: dict[str, Any] = {"treat": {"staff": 2}, "run": {"list": [{"a": 1}]}}
    set_value(data, "treat.staff", 4)
    set_value(data, "treat.calendar.weekend_share", 0.5)
    set_value(data, "step_up.enabled", True)
    set_value(data, "run.list[0].a", 3)
    set_value(data, "run.list.0.b", 4)
    assert data == {
        "treat": {"staff": 4, "calendar": {"weekend_share": 0.5}},
        "run": {"list": [{"a": 3, "b": 4}]},
        "step_up": {"enabled": True},
    }
    with pytest.raises(TypeError):
        set_value(data, "treat.staff.more", 1)
