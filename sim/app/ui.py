"""The app's pages, in Streamlit: borough, scenarios, run, results, compare runs.

Presentation only. Every check is the project's own (the configuration schema,
the practice reader), every number comes from a run of ``nsim``
(:mod:`sim.app.jobs`), and every sentence about a result is the report's
(:mod:`sim.app.results`). Streamlit reruns this script on each interaction;
what a session keeps between reruns lives in ``st.session_state`` under keys
that start with ``ns_``, and its files in its private workspace.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from sim.app import drafts, jobs, results
from sim.app.workspace import Workspace, default_root
from sim.config import levers as lv
from sim.config import practices
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.loading import (
    available_scenarios,
    compose_dict,
    library_scenarios,
    scenario_path,
)
from sim.config.schema import AGE_BANDS, FRAILTY_BANDS, Config

BAND_LABELS = {"age_0_64": "0-64", "age_65_74": "65-74", "age_75_84": "75-84", "age_85_plus": "85+"}
DEFAULT_BOROUGH = "baseline"
#: library scenarios that describe a borough rather than a change to one
BOROUGHS = ("baseline", "barnet_like")
#: blocks whose key settings the borough page shows as service capacities
CAPACITY_BLOCKS = (
    "beds",
    "discharge.assessment",
    "discharge.reablement",
    "discharge.intermediate_care",
    "discharge.care_home",
)


#: of those blocks' settings, the ones that say how much there is (the rest are the
#: services' workings, set on the Scenarios page)
CAPACITY_FIELDS = ("acute", "capacity", "staff")


_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~])")


def table(df: pd.DataFrame) -> None:
    """A static, accessible HTML table (st.table), its text shown as written: Streamlit
    reads table cells as Markdown, where "> 99.9%" would become a quotation."""
    shown = df.copy()
    if isinstance(shown.index, pd.RangeIndex) and len(shown.columns) > 1:
        shown = shown.set_index(shown.columns[0])  # row numbers say nothing: name the rows
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):
            shown[col] = shown[col].map(
                lambda v: _MARKDOWN.sub(r"\\\1", v) if isinstance(v, str) else v
            )
    shown.index = pd.Index([_MARKDOWN.sub(r"\\\1", str(i)) for i in shown.index])
    st.table(shown)


# --- session state -----------------------------------------------------------------------


def workspace() -> Workspace:
    """This browser session's workspace (made on its first page view)."""
    ws = st.session_state.get("ns_ws")
    if not isinstance(ws, Workspace):
        token = st.query_params.get("w", "")
        ws = Workspace.reopen(default_root(), token) or Workspace.new(default_root())
        st.session_state["ns_ws"] = ws
    if st.query_params.get("w") != ws.token:
        st.query_params["w"] = ws.token
    ws.touch()
    return ws


def all_scenarios(ws: Workspace) -> list[str]:
    with scenario_path(ws.scenario_dirs()):
        return available_scenarios()


def _files_key(ws: Workspace, name: str) -> tuple[tuple[str, float], ...]:
    """What scenario ``name`` composes from: config.yaml, its file and those it builds
    on, with their times (library scenarios share entries across sessions)."""
    from sim.config.loading import config_dir, scenarios_dir

    files = [config_dir() / "config.yaml"]
    files += drafts.dependencies(name, [scenarios_dir(), *ws.scenario_dirs()])
    return tuple((str(f), f.stat().st_mtime) for f in files if f.is_file())


#: composed scenarios by (folders, files and their times, name): composing takes a
#: Hydra run (a tenth of a second or more), and a page names many scenarios
_COMPOSED: dict[tuple[Any, ...], tuple[dict[str, Any], Config | None, list[ConfigProblem]]] = {}


def _composed(
    ws: Workspace, name: str
) -> tuple[dict[str, Any], Config | None, list[ConfigProblem]]:
    from sim.config.loading import from_mapping

    key = (_files_key(ws, name), name)
    if key not in _COMPOSED:
        if len(_COMPOSED) > 512:
            _COMPOSED.clear()
        with scenario_path(ws.scenario_dirs()):
            try:
                data = compose_dict(name, ["compare=[]"])
            except ConfigError as exc:
                _COMPOSED[key] = ({}, None, list(exc.problems))
            else:
                try:
                    _COMPOSED[key] = (data, from_mapping(data), [])
                except ConfigError as exc:
                    _COMPOSED[key] = (data, None, list(exc.problems))
    return _COMPOSED[key]


def config_of(ws: Workspace, name: str) -> Config:
    _data, cfg, problems = _composed(ws, name)
    if cfg is None:
        raise ConfigError(problems)
    return cfg


def data_of(ws: Workspace, name: str) -> dict[str, Any]:
    data, cfg, problems = _composed(ws, name)
    if cfg is None:
        raise ConfigError(problems)
    return data


def describe(ws: Workspace, name: str) -> str:
    """An option's label: the name and the description its file gives (read, not
    composed: a page lists every scenario)."""
    from sim.config.loading import scenario_file

    with scenario_path(ws.scenario_dirs()):
        path = scenario_file(name)
    text = drafts.load_yaml(path).get("description") if path is not None else None
    return f"{name}: {text}" if isinstance(text, str) and text else name


def show_problems(problems: Sequence[ConfigProblem], prefix: str | tuple[str, ...] = "") -> None:
    """The project's messages, next to the part of the form they are about."""
    for p in problems:
        if not prefix or str(p.path).startswith(prefix):
            st.error(str(p), icon=":material/error:")


def evidence_help(lever: lv.Lever) -> str:
    """A control's help text: its default's source and range from docs/evidence.md."""
    bounds = []
    if lever.ge is not None:
        bounds.append(f">= {lever.ge:g}")
    if lever.gt is not None:
        bounds.append(f"> {lever.gt:g}")
    if lever.le is not None:
        bounds.append(f"<= {lever.le:g}")
    if lever.lt is not None:
        bounds.append(f"< {lever.lt:g}")
    allowed = " and ".join(bounds) or "any value of its type"
    e = lever.evidence
    if e is None:
        return f"`{lever.path}`. Allowed: {allowed}. No row in docs/evidence.md."
    return (
        f"`{lever.path}`. Default {e.default}; range {e.range}; source: {e.source} "
        f"(status {e.status}). Allowed: {allowed}."
    )


def lever_input(lever: lv.Lever, key: str) -> Any:
    """One control for one setting, with its evidence as help and its rule checked."""
    label = lever.label
    help_text = evidence_help(lever)
    value: Any
    if lever.kind == "bool":
        value = st.checkbox(label, value=bool(lever.value), key=key, help=help_text)
    elif lever.kind == "choice":
        options = list(lever.choices)
        index = options.index(lever.value) if lever.value in options else 0
        value = st.selectbox(label, options, index=index, key=key, help=help_text)
    elif lever.kind == "int":
        value = st.number_input(label, value=int(lever.value), step=1, key=key, help=help_text)
    elif lever.kind == "float" and not lever.choices:
        value = st.number_input(
            label, value=float(lever.value), format="%.4g", key=key, help=help_text
        )
    elif lever.kind == "float":  # a number or a word (e.g. steady_state)
        words = ", ".join(str(c) for c in lever.choices)
        text = st.text_input(
            f"{label} (a number or {words})", value=str(lever.value), key=key, help=help_text
        )
        value = _number_or_word(text.strip())
    else:
        value = st.text_input(label, value=str(lever.value), key=key, help=help_text)
    problem = lever.problem(value)
    if problem:
        st.error(f"{lever.path}: {problem}", icon=":material/error:")
    e = lever.evidence
    if e is not None:
        parts = [f"Default {e.default}", f"range {e.range}" if e.range else "", e.status]
        st.caption(" · ".join(p for p in parts if p))
    return value


def _number_or_word(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    lv.set_value(data, path, value)


# --- borough -----------------------------------------------------------------------------


def _neighbourhood_rows(population: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for n in population.get("neighbourhoods", []):
        shares = n.get("age_shares") or {}
        row: dict[str, Any] = {"name": n["name"], "registered": int(n["registered"])}
        for band in AGE_BANDS:
            row[f"{BAND_LABELS[band]} %"] = round(100 * shares[band], 4) if band in shares else None
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["name", "registered", *[f"{BAND_LABELS[b]} %" for b in AGE_BANDS]]
    )


def _neighbourhoods_from(table: pd.DataFrame) -> tuple[list[dict[str, Any]], list[ConfigProblem]]:
    """The edited table as the config's neighbourhood list (shares from % to fractions)."""
    out: list[dict[str, Any]] = []
    problems = []
    for i, row in enumerate(table.to_dict("records")):
        where = f"population.neighbourhoods[{i}]"
        name = row.get("name")
        if name is None or (isinstance(name, float) and pd.isna(name)) or not str(name).strip():
            problems.append(ConfigProblem(f"{where}.name", name, "a name"))
            continue
        reg = row.get("registered")
        if reg is None or pd.isna(reg):
            problems.append(ConfigProblem(f"{where}.registered", None, "a whole number >= 0"))
            continue
        item: dict[str, Any] = {"name": str(name).strip(), "registered": int(reg)}
        pct = [row.get(f"{BAND_LABELS[b]} %") for b in AGE_BANDS]
        given = [p for p in pct if p is not None and not pd.isna(p)]
        if given and len(given) < len(pct):
            problems.append(
                ConfigProblem(
                    f"{where}.age_shares",
                    {BAND_LABELS[b]: p for b, p in zip(AGE_BANDS, pct, strict=True)},
                    "all four age shares, or none (then the borough's age mix applies)",
                )
            )
        elif given:
            item["age_shares"] = _shares([float(p) / 100 for p in pct if p is not None])
        out.append(item)
    return out, problems


def _shares(values: list[float]) -> dict[str, float]:
    """Fractions as the config takes them: summing to exactly 1 when they sum to 1
    up to rounding; otherwise as typed, for the schema's check to name."""
    if abs(math.fsum(values) - 1.0) < 5e-6:
        return practices.exact_shares(values)
    return dict(zip(AGE_BANDS, (round(v, 6) for v in values), strict=True))


def _practice_import(ws: Workspace) -> None:
    st.header("Import practices")
    st.write(
        "Upload NHS England's practice-level file of patients registered at a GP practice "
        "by age (5-year groups or single years; or a table with one row per practice and a "
        "count per age band), then say which practices make up each neighbourhood."
    )
    upload = st.file_uploader(
        "Practice list (CSV, at most 5 MB)", type=["csv"], key="ns_practice_file"
    )
    if upload is None:
        return
    try:
        found = practices.read_stream(upload, source=upload.name[:80])
    except ConfigError as exc:
        st.error("The file could not be used:", icon=":material/error:")
        show_problems(exc.problems)
        return
    registered = sum(p.registered for p in found)
    st.success(f"{len(found)} practices, {registered:,} registered patients.")
    table(
        pd.DataFrame(
            [
                {
                    "code": p.code,
                    "practice": p.name,
                    "registered": f"{p.registered:,}",
                    "aged 65+": f"{sum(p.counts[1:]):,}",
                    "neighbourhood in the file": p.neighbourhood,
                }
                for p in found
            ]
        )
    )
    named = list(dict.fromkeys(p.neighbourhood for p in found if p.neighbourhood))
    label = {p.code: f"{p.code} {p.name}".strip() for p in found}
    count = st.number_input(
        "Number of neighbourhoods",
        min_value=1,
        max_value=50,
        value=max(1, len(named)),
        step=1,
        key="ns_group_count",
    )
    groups: dict[str, str] = {}
    twice: list[str] = []
    for i in range(int(count)):
        default_name = named[i] if i < len(named) else f"Neighbourhood {i + 1}"
        c1, c2 = st.columns([1, 2])
        name = c1.text_input(
            f"Neighbourhood {i + 1} name", value=default_name, max_chars=60, key=f"ns_gn_{i}"
        )
        if named:
            chosen_default = [p.code for p in found if p.neighbourhood == default_name]
        else:
            chosen_default = [p.code for p in found] if int(count) == 1 else []
        chosen = c2.multiselect(
            f"Practices in neighbourhood {i + 1}",
            [p.code for p in found],
            default=chosen_default,
            format_func=lambda c: label[c],
            key=f"ns_gp_{i}",
        )
        for code in chosen:
            if code in groups:
                twice.append(code)
            groups[code] = name
    left_out = [p.code for p in found if p.code not in groups]
    if left_out:
        st.write("Left out (in no neighbourhood): " + ", ".join(label[c] for c in left_out))
    if st.button("Use these practices as the neighbourhoods", key="ns_use_practices"):
        if twice:
            st.error(
                "A practice can be in one neighbourhood only: " + ", ".join(sorted(set(twice))),
                icon=":material/error:",
            )
            return
        try:
            hoods = practices.neighbourhoods(found, {c: groups.get(c, "") for c in label})
        except ConfigError as exc:
            show_problems(exc.problems)
            return
        st.session_state["ns_hoods"] = _neighbourhood_rows({"neighbourhoods": hoods})
        st.session_state["ns_hoods_version"] = st.session_state.get("ns_hoods_version", 0) + 1
        st.success(f"{len(hoods)} neighbourhood(s) made from the practices.")


def borough_page() -> None:
    ws = workspace()
    st.title("Your borough")
    st.write(
        "Describe the borough: its neighbourhoods and their registered populations, the "
        "frailty of older people, care homes and service capacities. Saving writes a "
        "scenario file, the same as one written by hand, that other scenarios can build on."
    )
    boroughs = [
        b
        for b in all_scenarios(ws)
        if b in BOROUGHS or b in ws.own_scenarios() or b in ws.library_scenario_names()
    ]
    start = st.selectbox(
        "Start from",
        boroughs,
        index=boroughs.index(DEFAULT_BOROUGH),
        key="ns_b_start",
        format_func=lambda n: describe(ws, n),
    )
    base = data_of(ws, start)
    cfg = config_of(ws, start)
    problems: list[ConfigProblem] = st.session_state.get("ns_b_problems", [])

    _practice_import(ws)

    st.header("Neighbourhoods")
    st.write(
        "Registered patients and the age mix (% by band) of each neighbourhood; leave the "
        "shares empty to use the borough's age mix."
    )
    if st.session_state.get("ns_hoods_start") != start:
        st.session_state["ns_hoods"] = _neighbourhood_rows(base["population"])
        st.session_state["ns_hoods_start"] = start
    version = st.session_state.get("ns_hoods_version", 0)
    hoods = st.data_editor(
        st.session_state["ns_hoods"],
        num_rows="dynamic",
        hide_index=True,
        key=f"ns_hoods_editor_{start}_{version}",
        column_config={
            "registered": st.column_config.NumberColumn("registered", min_value=0, step=1),
        },
    )
    total = int(pd.to_numeric(hoods["registered"], errors="coerce").fillna(0).sum())
    st.caption(f"{total:,} registered in all.")
    show_problems(problems, "population.neighbourhoods")

    st.header("Age mix and frailty")
    pop = base["population"]
    age = st.data_editor(
        pd.DataFrame([{BAND_LABELS[b]: pop["age_shares"][b] for b in AGE_BANDS}], index=["share"]),
        key=f"ns_age_{start}",
    )
    show_problems(problems, "population.age_shares")
    frail_rows = ("frailty_65_74", "frailty_75_84", "frailty_85_plus")
    st.write("Electronic frailty index bands of people living at home, by age band (shares).")
    frail = st.data_editor(
        pd.DataFrame([pop[r] for r in frail_rows], index=["65-74", "75-84", "85+"]),
        key=f"ns_frail_{start}",
    )
    show_problems(
        problems, ("population.frailty_65", "population.frailty_75", "population.frailty_85")
    )

    st.header("Care homes")
    homes = st.data_editor(
        pd.DataFrame(
            [{BAND_LABELS[b]: pop["care_home_share"][b] for b in AGE_BANDS}],
            index=["share living in a care home"],
        ),
        key=f"ns_homes_{start}",
    )
    home_frail = st.data_editor(
        pd.DataFrame([pop["care_home_frailty"]], index=["care-home residents' frailty"]),
        key=f"ns_home_frail_{start}",
    )
    show_problems(problems, "population.care_home")

    st.header("Service capacities")
    capacity: dict[str, Any] = {}
    for block in CAPACITY_BLOCKS:
        for lever in lv.key_levers(cfg, block):
            if lever.path.rpartition(".")[2] in CAPACITY_FIELDS:
                capacity[lever.path] = lever_input(lever, f"ns_cap_{start}_{lever.path}")
    show_problems(problems, ("beds", "discharge"))

    st.header("Save")
    name = st.text_input("Borough name (letters, digits and _)", key="ns_b_name", max_chars=40)
    description = st.text_input("Description", key="ns_b_description", max_chars=200)
    if st.button("Check and save borough", type="primary", key="ns_b_save"):
        new = copy.deepcopy(base)  # base is the cached composition: never change it
        population = new["population"]
        nb, nb_problems = _neighbourhoods_from(hoods)
        population["neighbourhoods"] = nb
        population["age_shares"] = _shares([float(age.iloc[0][BAND_LABELS[b]]) for b in AGE_BANDS])
        for r, label in zip(frail_rows, frail.index, strict=True):
            population[r] = {b: float(frail.loc[label, b]) for b in FRAILTY_BANDS}
        population["care_home_share"] = {b: float(homes.iloc[0][BAND_LABELS[b]]) for b in AGE_BANDS}
        population["care_home_frailty"] = {b: float(home_frail.iloc[0][b]) for b in FRAILTY_BANDS}
        new["population"] = population
        for where, value in capacity.items():
            _set(new, where, value)
        settings = drafts.changed(new, base)
        settings.pop("name", None)
        settings.pop("description", None)
        draft = drafts.Draft(
            name.strip(),
            description.strip() or "A borough made in nsim-app.",
            bases=[] if start == DEFAULT_BOROUGH else [start],
            settings=settings,
            note="A borough: neighbourhoods, population, care homes and capacities.",
        )
        saved, found = (None, nb_problems) if nb_problems else drafts.save(draft, ws)
        st.session_state["ns_b_problems"] = found
        st.session_state["ns_b_outcome"] = (draft.name, draft.yaml()) if saved else found
        st.rerun()  # redraw with each message next to its field
    _outcome("ns_b_outcome", ("population", "beds", "discharge"))


def _outcome(key: str, shown_above: tuple[str, ...] = ()) -> None:
    """What the last save said: the file written, or why not (kept across reruns)."""
    outcome = st.session_state.get(key)
    if isinstance(outcome, tuple):
        name, text = outcome
        st.success(f"Saved {name}.")
        st.code(text, language=None, wrap_lines=True)
        st.download_button(
            f"Download {name}.yaml",
            text,
            file_name=f"{name}.yaml",
            mime="text/yaml",
            key=f"{key}_dl",
        )
    elif isinstance(outcome, list) and outcome:
        st.error("Not saved: see the messages next to the fields.", icon=":material/error:")
        show_problems([p for p in outcome if not str(p.path).startswith(shown_above)])


# --- scenarios ---------------------------------------------------------------------------


def _blocks_of(ws: Workspace, names: Sequence[str]) -> list[str]:
    """The configuration blocks the named library scenarios set (their levers)."""
    from sim.app.drafts import load_yaml
    from sim.config.loading import scenario_file

    blocks: list[str] = []
    with scenario_path(ws.scenario_dirs()):
        for n in names:
            path = scenario_file(n)
            if path is None:
                continue
            for key in load_yaml(path):
                if (
                    key
                    not in (
                        "defaults",
                        "name",
                        "description",
                        "compare",
                        "uncertainty",
                        "population",
                        "run",
                    )
                    and key not in blocks
                ):
                    blocks.append(key)
    return blocks


def scenarios_page() -> None:
    ws = workspace()
    st.title("Scenarios")
    st.write(
        "Compose a scenario: a borough, the services and interventions of the library, and "
        "their levers. Each control shows its default's source and range from the "
        "evidence document; saving writes a scenario file you can download."
    )
    names = all_scenarios(ws)
    own = set(ws.own_scenarios()) | set(ws.library_scenario_names())
    boroughs = [n for n in names if n in BOROUGHS or n in own]
    borough = st.selectbox(
        "Borough",
        boroughs,
        index=boroughs.index(DEFAULT_BOROUGH),
        key="ns_s_borough",
        format_func=lambda n: describe(ws, n),
    )
    library = [n for n in library_scenarios() if n not in BOROUGHS]
    chosen = st.multiselect(
        "Services and interventions (from the library)",
        library,
        key="ns_s_chosen",
        format_func=lambda n: describe(ws, n),
    )
    bases = ([] if borough == DEFAULT_BOROUGH else [borough]) + list(chosen)
    probe = drafts.Draft("ns_probe_draft", "probe", bases=bases)
    cfg, problems = drafts.check(probe, ws)
    if cfg is None:
        show_problems(problems)
        return
    values: dict[str, Any] = {}
    for block in _blocks_of(ws, chosen):
        with st.expander(f"Levers: {block}", expanded=True):
            keys = lv.key_levers(cfg, block)
            for lever in keys:
                values[lever.path] = (
                    lever.value,
                    lever_input(lever, f"ns_s_{'_'.join(bases)}_{lever.path}"),
                )
            with st.expander(f"All settings of {block}"):
                shown = {k.path for k in keys}
                for lever in lv.levers(cfg, block):
                    if lever.path not in shown:
                        values[lever.path] = (
                            lever.value,
                            lever_input(lever, f"ns_s_{'_'.join(bases)}_{lever.path}_all"),
                        )
    st.header("Save")
    name = st.text_input("Scenario name (letters, digits and _)", key="ns_s_name", max_chars=40)
    description = st.text_input("Description", key="ns_s_description", max_chars=200)
    if st.button("Check and save scenario", type="primary", key="ns_s_save"):
        settings: dict[str, Any] = {}
        for path, (old, new) in values.items():
            if new != old:
                _set(settings, path, new)
        draft = drafts.Draft(
            name.strip(),
            description.strip() or f"{' + '.join(bases) or 'baseline'} with changed levers",
            bases=bases,
            settings=settings,
        )
        saved, found = drafts.save(draft, ws)
        st.session_state["ns_s_outcome"] = (draft.name, draft.yaml()) if saved else found
        st.rerun()
    _outcome("ns_s_outcome")
    mine = ws.own_scenarios()
    if mine:
        st.header("Share with your team")
        st.write("Your scenarios are visible only in this session until you share them.")
        pick = st.selectbox("Your scenario", mine, key="ns_share_pick")
        if st.button("Save to the shared library", key="ns_share"):
            try:
                ws.share(pick)
                st.success(f"{pick} is in the shared library.")
            except FileExistsError as exc:
                st.error(str(exc), icon=":material/error:")


# --- run ---------------------------------------------------------------------------------


def run_page() -> None:
    ws = workspace()
    st.title("Run")
    names = all_scenarios(ws)
    with st.form("ns_run_form"):
        baseline = st.selectbox(
            "Baseline",
            names,
            index=names.index(DEFAULT_BOROUGH),
            key="ns_r_base",
            format_func=lambda n: describe(ws, n),
        )
        compare = st.multiselect(
            "Compare with",
            names,
            key="ns_r_compare",
            format_func=lambda n: describe(ws, n),
        )
        c1, c2, c3 = st.columns(3)
        reps = c1.number_input(
            "Replications",
            value=10,
            step=1,
            key="ns_r_reps",
            help="2 to 100. Each scenario runs the same replications "
            "(common random numbers), so effects are paired differences.",
        )
        years = c2.number_input("Years measured", value=1, step=1, key="ns_r_years", help="1 to 5")
        seed = c3.number_input("Seed", value=20181, step=1, key="ns_r_seed")
        psa = st.checkbox(
            "Probabilistic sensitivity analysis (parameter uncertainty; takes minutes)",
            key="ns_r_psa",
        )
        draws = st.number_input("Parameter sets", value=50, step=10, key="ns_r_draws")
        tornado = st.checkbox("One-way sensitivity (tornado charts)", key="ns_r_tornado")
        go = st.form_submit_button("Start run", type="primary")
    if go:
        req = jobs.Request(
            baseline,
            tuple(c for c in compare),
            int(reps),
            int(years),
            int(seed),
            bool(psa),
            int(draws),
            bool(tornado),
        )
        run, problems = jobs.start(req, ws)
        if run is None:
            st.error("The run was not started:", icon=":material/error:")
            show_problems(problems)
        else:
            st.session_state["ns_run"] = str(run.folder)
            for warning in _borough_warnings(ws, req):
                st.warning(warning)
    folder = st.session_state.get("ns_run")
    if folder:
        progress_panel(Path(folder))


def _borough_warnings(ws: Workspace, req: jobs.Request) -> list[str]:
    base = config_of(ws, req.baseline).population
    return [
        f"{n} runs on another borough than {req.baseline}: its differences include the "
        "borough's, not only the change."
        for n in req.compare
        if config_of(ws, n).population != base
    ]


@st.fragment(run_every=1.0)
def progress_panel(folder: Path) -> None:
    """The current run's progress, cancel button and first results (redrawn each second)."""
    run = jobs.Run(folder)
    status = run.status()
    req = run.request
    st.header(f"{req.baseline} against {', '.join(req.compare) or 'nothing'}")
    st.code(req.command(), language=None, wrap_lines=True)
    if status.state == "running":
        label = (
            f"{status.stage}: {status.done} of {status.total} replications"
            if status.total
            else "starting"
        )
        st.progress(status.fraction, text=f"{label} ({status.seconds:.0f} s)")
        if st.button("Cancel run", key="ns_cancel"):
            run.cancel()
            st.rerun()
        found = results.interim(run)
        if found is not None:
            effects, pairs = found
            st.write(
                f"First results from {pairs} paired replications (interim; the final "
                "table replaces them):"
            )
            table(results.effects_view(effects))
    elif status.state == "finished":
        st.success(f"Finished in {status.seconds:.0f} s. Open the Results page to read it.")
        st.session_state["ns_result"] = str(folder)
    elif status.state == "cancelled":
        st.info("The run was cancelled. Starting it again reuses the replications it finished.")
    else:
        st.error(f"The run {status.state}: {status.message}", icon=":material/error:")


# --- results -----------------------------------------------------------------------------


def _run_label(run: jobs.Run) -> str:
    req = run.request
    started = run.meta.get("started")
    when = dt.datetime.fromtimestamp(float(started)).strftime("%d %b %H:%M") if started else ""
    shared = " (shared)" if "library" in run.folder.parts else ""
    return (
        f"{req.baseline} vs {', '.join(req.compare) or '-'}, {req.replications} reps"
        f"{', PSA' if req.psa else ''} {when}{shared}"
    )


def _pick_run(ws: Workspace, key: str) -> jobs.Run | None:
    done = [r for r in jobs.runs(ws) if r.finished()]
    if not done:
        st.info("No finished runs yet: start one on the Run page.")
        return None
    folders = [str(r.folder) for r in done]
    current = st.session_state.get("ns_result")
    index = folders.index(current) if current in folders else 0
    pick = st.selectbox(
        "Run", folders, index=index, key=key, format_func=lambda f: _run_label(jobs.Run(Path(f)))
    )
    return jobs.Run(Path(pick))


def results_page() -> None:
    ws = workspace()
    st.title("Results")
    run = _pick_run(ws, "ns_res_pick")
    if run is None:
        return
    answer = results.load(run)
    if answer is None:
        st.info("This run has not finished.")
        return
    st.header("Summary")
    st.write(
        f"{answer.replications} replications, measured {answer.period}; effects are "
        "paired differences from the baseline with 95% confidence intervals."
    )
    items = "".join(
        f"<li><b>{html.escape(scen)}</b> {html.escape(sentence)}</li>"
        for scen, sentence in answer.sentences()
    )
    st.html(f"<ul>{items}</ul>")  # plain HTML: no Markdown reading of "<" or ">"
    if not answer.effects.empty:
        st.header("Effects")
        st.write(
            "P(better) is the probability that the effect is a benefit: saving money, "
            "avoiding admissions, and so on for each outcome."
        )
        table(results.effects_view(answer.effects))
    if answer.psa:
        st.header("Parameter uncertainty")
        headline = answer.psa.get("psa_headline")
        if headline is not None and not headline.empty:
            st.write(
                "The same effects over the parameter sets drawn from what the evidence does "
                "not know (docs/uncertainty.md): each range holds 95% of the outcomes of "
                "a year across parameter sets and chance together, and P(better) is the "
                "share of them that are a benefit."
            )
            table(results.effects_view(headline, "range"))
    st.header("Costs by budget holder")
    _costs(answer)
    st.header("Charts")
    for _name, caption, png in answer.figures:
        st.subheader(caption)
        # st.image gives no alt text: the figure is drawn with its caption as one
        data = base64.b64encode(png.read_bytes()).decode()
        st.html(
            f"<figure style='margin:0'><img alt='{html.escape(caption, quote=True)}' "
            f"src='data:image/png;base64,{data}' style='max-width:100%'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    st.header("Downloads")
    c1, c2, c3 = st.columns(3)
    report = run.out / "report.html"
    if report.is_file():
        c1.download_button(
            "Report (HTML)",
            report.read_bytes(),
            file_name="report.html",
            mime="text/html",
            key="ns_dl_report",
        )
    else:
        c1.write("No report: the baseline's scenario sets `report: false`.")
    c2.download_button(
        "Tables (CSV, zip)",
        results.tables_zip(run),
        file_name="tables.zip",
        mime="application/zip",
        key="ns_dl_tables",
    )
    c3.download_button(
        "Configuration (zip)",
        results.config_zip(run),
        file_name="configuration.zip",
        mime="application/zip",
        key="ns_dl_config",
    )
    st.write("To reproduce these numbers from the command line, unzip the configuration and run:")
    st.code(run.request.command("scenarios"), language=None, wrap_lines=True)
    if "library" not in run.folder.parts and st.button(
        "Save this run to the shared library", key="ns_share_run"
    ):
        ws.share_run(run.key)
        st.success("Saved to the shared library.")


HOLDERS = (
    "cost_acute_trust",
    "cost_community_health",
    "cost_ambulance_trust",
    "cost_social_care",
    "cost_total",
)


def _costs(answer: results.Answer) -> None:
    from sim.report import format as fmt

    rows = []
    source = answer.comparison
    if source is None:
        summary = answer.summaries[answer.baseline]
        for m in HOLDERS:
            if m in summary.index:
                rows.append(
                    {
                        "scenario": answer.baseline,
                        "budget": m.removeprefix("cost_").replace("_", " "),
                        "mean": fmt.gbp(float(summary.at[m, "mean"])),  # type: ignore[arg-type]
                    }
                )
    else:
        for _, r in source[source["metric"].isin(HOLDERS)].iterrows():
            row = {
                "scenario": r["scenario"],
                "budget": str(r["metric"]).removeprefix("cost_").replace("_", " "),
                "mean": fmt.gbp(r["mean"]),
            }
            if r["scenario"] != answer.baseline:
                row["change from baseline (95% CI)"] = _cost_change(
                    float(r["diff_mean"]), float(r["diff_ci_low"]), float(r["diff_ci_high"])
                )
            rows.append(row)
    if rows:
        table(pd.DataFrame(rows).fillna(""))


def _cost_change(mean: float, lo: float, hi: float) -> str:
    """A change in cost in words: more or less, never a bare minus sign."""
    from sim.report import format as fmt

    def words(x: float) -> str:
        return "no change" if x == 0 else f"{fmt.gbp(abs(x))} {'more' if x > 0 else 'less'}"

    text = f"{words(mean)} ({words(lo)} to {words(hi)})"
    return text + "; the CI includes no change" if lo < 0 < hi else text


def compare_page() -> None:
    ws = workspace()
    st.title("Compare runs")
    done = [r for r in jobs.runs(ws) if r.finished()]
    if len(done) < 2:
        st.info("Two finished runs are needed to compare them side by side.")
        return
    folders = [str(r.folder) for r in done]
    picked = st.multiselect(
        "Runs",
        folders,
        default=folders[:2],
        key="ns_cmp_runs",
        format_func=lambda f: _run_label(jobs.Run(Path(f))),
    )
    side: dict[str, dict[tuple[str, str], str]] = {}
    for i, f in enumerate(picked):
        answer = results.load(jobs.Run(Path(f)))
        if answer is None or answer.effects.empty:
            continue
        view = results.effects_view(answer.effects)
        side[f"run {i + 1}"] = {
            (r["scenario"], r["effect"]): f"{r['estimate']} ({r['95% CI']})"
            for r in view.to_dict("records")
        }
    if not side:
        st.info("The chosen runs compare no scenarios.")
        return
    for i, f in enumerate(picked):
        st.write(f"run {i + 1}: {_run_label(jobs.Run(Path(f)))}")
    df = pd.DataFrame(side).fillna("")
    df.index = [f"{s}: {e}" for s, e in df.index]
    table(df)


def about_page() -> None:
    st.title("About")
    st.write(
        "neighbourhood-sim simulates patients flowing through an integrated neighbourhood "
        "care system. Every default names its source in docs/evidence.md. This app runs the "
        "same command as the command line (nsim) and shows its answers."
    )


#: WCAG 2.2 AA asks for 4.5:1 contrast for body text; Streamlit's captions are lighter
CSS = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
  color: #4a4a4a !important; opacity: 1 !important;
}
code .token.comment, code .token.prolog { color: #4a4a4a !important; }
</style>
"""


def main() -> None:
    st.set_page_config(page_title="neighbourhood-sim", layout="wide")
    st.markdown(CSS, unsafe_allow_html=True)
    pages = [
        st.Page(borough_page, title="Borough", default=True),
        st.Page(scenarios_page, title="Scenarios", url_path="scenarios"),
        st.Page(run_page, title="Run", url_path="run"),
        st.Page(results_page, title="Results", url_path="results"),
        st.Page(compare_page, title="Compare runs", url_path="compare"),
        st.Page(about_page, title="About", url_path="about"),
    ]
    page = st.navigation(pages)
    workspace()  # on every page, so its address keeps the session's token
    try:
        page.run()
    except ConfigError as exc:  # a scenario file that no longer loads, say
        st.error("This cannot be shown:", icon=":material/error:")
        show_problems(exc.problems)
    except Exception:  # never a traceback on the page: the server's log has it
        import logging

        logging.getLogger("nsim-app").exception("page %s failed", page.title)
        st.error(
            "Something went wrong on this page; it has been logged on the server. "
            "Try again, or start from the Borough page.",
            icon=":material/error:",
        )
