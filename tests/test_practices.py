"""Practice list sizes read into neighbourhoods: the three layouts, grouping, exact
age shares, and hostile uploads that must end in a ConfigError naming the line."""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import practices as pr
from sim.config.build import build
from sim.config.errors import ConfigError
from sim.config.practices import MAX_BYTES, MAX_PRACTICES, Practice, neighbourhoods, read_practices
from sim.config.schema import AGE_BANDS, Neighbourhood

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "practices_small.csv"

QUIN_HEADER = (
    "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,"
    "NUMBER_OF_PATIENTS"
)
SING_HEADER = "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS"
WIDE_HEADER = "practice_code,practice_name,neighbourhood,age_0_64,age_65_74,age_75_84,age_85_plus"
GROUPS = [f"{5 * i}_{5 * i + 4}" for i in range(19)] + ["95+"]

# one practice's 5-year groups (0_4 ... 90_94, 95+), by sex
FEMALE = [100] * 13 + [40, 30, 20, 10, 5, 3, 1]
MALE = [110] * 13 + [35, 25, 15, 8, 4, 2, 0]
# by hand: 0-64 = 13 x 100 + 13 x 110 = 2730; 65-74 = 40 + 30 + 35 + 25 = 130;
# 75-84 = 20 + 10 + 15 + 8 = 53; 85+ = 5 + 3 + 1 + 4 + 2 + 0 = 15; all = 2928
EXPECTED = (2730, 130, 53, 15)


def quin_rows(code: str, female: list[int], male: list[int], totals: bool = True) -> list[str]:
    pre = f"GP_PRAC_PAT_LIST,01APR2025,GP,{code},,ZZ9 9ZZ"
    rows = [f"{pre},ALL,ALL,{sum(female) + sum(male)}"] if totals else []
    for sex, values in (("FEMALE", female), ("MALE", male)):
        rows += [f"{pre},{sex},{g},{v}" for g, v in zip(GROUPS, values, strict=True)]
        if totals:
            rows.append(f"{pre},{sex},ALL,{sum(values)}")
    return rows


def quin_file(*rows: str) -> bytes:
    return ("\n".join([QUIN_HEADER, *rows]) + "\n").encode()


def problems(data: bytes | str, source: str = "upload.csv") -> list[str]:
    with pytest.raises(ConfigError) as info:
        read_practices(data, source)
    return [str(p) for p in info.value.problems]


def one_problem(data: bytes | str, line: int | None) -> str:
    """The single problem reported, checked to name the source and the line."""
    found = problems(data)
    assert len(found) == 1, found
    assert found[0].startswith("upload.csv")
    if line is not None:
        assert f"line {line}" in found[0], found[0]
    return found[0]


# ----------------------------------------------------------------------------- layouts
def test_nhs_five_year_groups_add_male_and_female_into_the_bands() -> None:
    data = quin_file(
        # a CCG's total in the same file is not a practice
        "GP_PRAC_PAT_LIST,01APR2025,CCG,00X,E38000000,,ALL,ALL,123456",
        *quin_rows("Y90001", FEMALE, MALE),
        *quin_rows("y90002", [1] * 20, [2] * 20),
    )
    got = read_practices(data)
    assert [p.code for p in got] == ["Y90001", "Y90002"]
    assert got[0] == Practice("Y90001", "", "", EXPECTED)
    assert got[0].registered == 2928
    # 13 groups x 3 below 65; 2 x 3 in each of 65-74 and 75-84; 3 x 3 from 85
    assert got[1].counts == (39, 6, 6, 9)


def test_nhs_sex_all_age_rows_are_used_when_present() -> None:
    pre = "GP_PRAC_PAT_LIST,01APR2025,GP,Y90001,,ZZ9 9ZZ"
    persons = [f"{pre},ALL,{g},{a + b}" for g, a, b in zip(GROUPS, FEMALE, MALE, strict=True)]
    data = quin_file(*persons, *quin_rows("Y90001", FEMALE, MALE))
    assert read_practices(data)[0].counts == EXPECTED
    persons_only = quin_file(*persons)  # e.g. a persons file with no sex split
    assert read_practices(persons_only)[0].counts == EXPECTED


def test_nhs_single_year_of_age() -> None:
    pre = "GP_PRAC_PAT_LIST,01APR2025,GP,Y90003,ZZ9 9ZZ,ALL"
    # 10 a year to 64, 5 a year 65-74, 3 a year 75-84, 1 a year 85-94, 2 aged 95+
    counts = [10] * 65 + [5] * 10 + [3] * 10 + [1] * 10
    rows = [f"{pre},{age},{n}" for age, n in enumerate(counts)] + [f"{pre},95+,2"]
    rows.append(f"{pre},ALL,{650 + 50 + 30 + 10 + 2}")
    got = read_practices("\n".join([SING_HEADER, *rows]))
    assert got == [Practice("Y90003", "", "", (650, 50, 30, 12))]


def test_single_year_files_of_each_sex_joined_end_to_end() -> None:
    def part(sex: str, per_year: int) -> list[str]:
        pre = f"GP_PRAC_PAT_LIST,01APR2025,GP,Y90004,ZZ9 9ZZ,{sex}"
        return [SING_HEADER] + [f"{pre},{a},{per_year}" for a in range(95)] + [f"{pre},95+,1"]

    text = "\r\n".join(part("FEMALE", 2) + part("MALE", 1)) + "\r\n"
    # 65 ages x (2 + 1) below 65, 10 x 3 in each older band, plus 85-94 and 95+ (1 + 1)
    assert read_practices(text)[0].counts == (195, 30, 30, 32)


def test_project_table_with_names_and_neighbourhoods() -> None:
    text = "\n".join(
        [
            WIDE_HEADER,
            "y90001,The Fictional Surgery,Riverside,9000,400,250,100",
            "Y90002,  Made-up   Medical Centre ,Market,5000,200,100,50",
            "# a comment line, then a blank one and one of only commas",
            "",
            ",,,,,,",
            "Y90003,,,0,0,0,0",
        ]
    )
    got = read_practices(text)
    assert got == [
        Practice("Y90001", "The Fictional Surgery", "Riverside", (9000, 400, 250, 100)),
        Practice("Y90002", "Made-up Medical Centre", "Market", (5000, 200, 100, 50)),
        Practice("Y90003", "", "", (0, 0, 0, 0)),  # a practice may have no patients
    ]
    assert got[0].registered == 9750


def test_column_names_are_matched_loosely_and_a_bom_is_accepted() -> None:
    # only the columns needed, named as a spreadsheet might, in another order
    body = [
        f"{r.split(',')[-1]},Y90001,{r.split(',')[6]},{r.split(',')[7]}"
        for r in quin_rows("Y90001", FEMALE, MALE)
    ]
    text = "\n".join(["Number of Patients,Org Code,Sex,Age-Group-5", *body])
    assert read_practices(text)[0].counts == EXPECTED
    assert read_practices(b"\xef\xbb\xbf" + text.encode())[0].counts == EXPECTED
    assert read_practices("\ufeff" + text)[0].counts == EXPECTED


def test_windows_1252_from_excel_is_read() -> None:
    data = (WIDE_HEADER + "\nY90001,St Ann\u2019s Fictional Surgery,North,1,2,3,4\n").encode(
        "cp1252"
    )
    assert b"\x92" in data  # not UTF-8
    assert read_practices(data)[0].name == "St Ann\u2019s Fictional Surgery"


def test_example_file() -> None:
    data = EXAMPLE.read_bytes()
    assert len(data) < 20_000
    got = read_practices(data, EXAMPLE.name)
    assert [p.code for p in got] == [f"Y9000{i}" for i in range(1, 8)]
    # by hand from the file's rows (male + female in each band)
    assert got[0].counts == (5755, 248, 133, 63)
    assert got[5].counts == (16980, 512, 276, 131)
    assert sum(p.registered for p in got) == 76095
    older = sum(sum(p.counts[1:]) for p in got) / 76095
    assert 0.06 < older < 0.08  # inner-London-like: ~7% are 65 or over


# ----------------------------------------------------------------------------- grouping
def _example_groups() -> dict[str, str]:
    return {
        **dict.fromkeys(["Y90001", "Y90002", "Y90003"], "Riverside"),
        **dict.fromkeys(["Y90004", "Y90005"], "Market"),
        **dict.fromkeys(["Y90006", "Y90007"], "Parkland"),
    }


def test_example_grouped_into_neighbourhoods_the_config_accepts() -> None:
    got = neighbourhoods(read_practices(EXAMPLE.read_bytes()), _example_groups())
    assert [(n["name"], n["registered"]) for n in got] == [
        ("Riverside", 6199 + 9798 + 14498),
        ("Market", 11200 + 7599),
        ("Parkland", 17899 + 8902),
    ]
    for n in got:
        assert list(n) == ["name", "registered", "age_shares"]
        assert list(n["age_shares"]) == list(AGE_BANDS)
        assert math.fsum(n["age_shares"].values()) == 1.0
        built = build(Neighbourhood, n)
        assert built.registered == n["registered"]
        assert built.age_shares is not None
        assert built.age_shares.as_tuple() == tuple(n["age_shares"].values())
    # Market by hand: 0-64 = 10703 + 6809 = 17512 of 18799
    assert got[1]["age_shares"]["age_0_64"] == round(17512 / 18799, 6)


def test_groups_override_the_file_and_can_leave_practices_out() -> None:
    ps = [
        Practice("Y1", "", "North", (90, 5, 3, 2)),
        Practice("Y2", "", "North", (80, 10, 6, 4)),
        Practice("Y3", "", "", (70, 20, 6, 4)),
        Practice("Y4", "", "South", (1, 1, 1, 1)),
    ]
    got = neighbourhoods(ps, {"y3": "South", "Y2": "", "Y4": " East  End "})
    assert [(n["name"], n["registered"]) for n in got] == [
        ("North", 100),
        ("South", 100),
        ("East End", 4),
    ]
    assert got[1]["age_shares"] == {
        "age_0_64": 0.7,
        "age_65_74": 0.2,
        "age_75_84": 0.06,
        "age_85_plus": 0.04,
    }


def _grouping_problems(ps: list[Practice], groups: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        neighbourhoods(ps, groups)
    return [str(p) for p in info.value.problems]


def test_grouping_problems_name_the_practice_or_neighbourhood() -> None:
    ps = [Practice("Y1", "", "", (10, 0, 0, 0)), Practice("Y2", "", "", (0, 0, 0, 0))]
    (msg,) = _grouping_problems(ps, {})
    assert "Y1, Y2" in msg and "a neighbourhood for every practice" in msg
    (msg,) = _grouping_problems(ps, {"Y1": "A", "Y2": "B"})
    assert "'B'" in msg and "Y2" in msg and "registered patients" in msg
    (msg,) = _grouping_problems(ps, {"Y1": "A", "Y2": "A", "Y9": "A"})
    assert "groups[Y9]" in msg and "a practice in the file" in msg
    (msg,) = _grouping_problems(ps, {"Y1": "", "Y2": ""})
    assert "every practice is left out" in msg
    three = [*ps, Practice("Y3", "", "", (1, 0, 0, 0))]
    (msg,) = _grouping_problems(three, {"Y1": "North", "Y2": "", "Y3": "north"})
    assert "differ by more than case" in msg


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("${oc.env:HOME}", "no '${'"),
        ("N" * 61, "at most 60 characters"),
        ("North\u202eEast", "printable"),
        ("Zero\u200bwidth", "printable"),
    ],
)
def test_bad_neighbourhood_names_are_refused(name: str, rule: str) -> None:
    ps = [Practice("Y1", "", "", (10, 1, 1, 1))]
    (msg,) = _grouping_problems(ps, {"Y1": name})
    assert "groups[Y1]" in msg and rule in msg
    # the same name from the file's own column
    wide = f"{WIDE_HEADER}\nY1,,{name},10,1,1,1\n"
    msg = one_problem(wide, 2)
    assert "column NEIGHBOURHOOD" in msg and rule in msg


def test_a_hostile_groups_key_is_shown_only_as_a_quoted_value() -> None:
    ps = [Practice("Y1", "", "North", (10, 1, 1, 1))]
    (msg,) = _grouping_problems(ps, {"Y1\u202e\x00" + "x" * 500: "North"})
    path = msg.split(": got")[0]
    assert path == "neighbourhoods, groups" and len(msg) < 300


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 200_000), min_size=4, max_size=4).filter(lambda c: sum(c) > 0))
def test_shares_are_six_decimals_and_sum_to_exactly_one(counts: list[int]) -> None:
    a, b, c, d = counts
    (n,) = neighbourhoods([Practice("Y1", "", "N", (a, b, c, d))], {})
    shares = list(n["age_shares"].values())
    assert math.fsum(shares) == 1.0
    total = sum(counts)
    for share, count in zip(shares, counts, strict=True):
        assert abs(share - count / total) <= 2e-6
        assert abs(share - round(share, 6)) < 1e-12  # six decimals (within a float's grain)
    build(Neighbourhood, n)


# ----------------------------------------------------------------------------- hostile files
def test_a_file_over_the_size_limit_is_refused_before_any_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(pr.csv, "reader", no_parsing)
    big = (WIDE_HEADER + "\n").encode() + b"Y1,,,1,1,1,1\n" * (MAX_BYTES // 13 + 1)
    (msg,) = problems(big)
    assert "bytes" in msg and f"{MAX_BYTES:,}" in msg
    (msg,) = problems(big.decode())
    assert "characters" in msg


def test_a_stream_is_read_only_up_to_the_limit() -> None:
    class Endless(io.RawIOBase):
        asked: ClassVar[list[int]] = []

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            assert 0 < size <= MAX_BYTES + 1, "must not read without a limit"
            self.asked.append(size)
            return b"a" * size

    with pytest.raises(ConfigError, match="at most 5,000,000 bytes"):
        pr.read_stream(Endless(), "upload.csv")  # type: ignore[arg-type]
    assert Endless.asked == [MAX_BYTES + 1]
    assert pr.read_stream(io.BytesIO(EXAMPLE.read_bytes()))[0].code == "Y90001"


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"", 1, "empty"),
        (b"\n \n,,,\n", 1, "empty"),
        ((WIDE_HEADER + "\nY1,a\x00b,,1,1,1,1\n").encode(), 2, "NUL"),
        ("ORG_CODE\r\nY1\r\n".encode("utf-16"), 1, "NUL"),
        (WIDE_HEADER.encode() + b"\n\nY1,\x81\x8d\x90,,1,1,1,1\n", 3, "UTF-8"),
        ((WIDE_HEADER + "\nY1,bell\x07,,1,1,1,1\n").encode(), 2, "U+0007"),
        ((WIDE_HEADER + "\nY1,c1\u0085,,1,1,1,1\n").encode(), 2, "U+0085"),
        (bytes(range(1, 128)) * 4, 1, "U+0001"),
        (bytes(range(1, 256)) * 4, 2, "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "NUL"),
        (b"Y90001,Some Surgery,North,100,10,5,1\n", 1, "layouts"),
        (b"foo,bar\n1,2\n", 1, "5-year age groups"),
        (b"ORG_CODE,SEX,AGE_GROUP_5\nY1,ALL,0_4\n", 1, "NUMBER_OF_PATIENTS"),
        (b"SEX,AGE,NUMBER_OF_PATIENTS\nALL,1,1\n", 1, "ORG_CODE"),
        ((WIDE_HEADER.replace(",age_85_plus", "") + "\nY1,,,1,1,1\n").encode(), 1, "age_85_plus"),
        (b"ORG_CODE,ORG_CODE,AGE,NUMBER_OF_PATIENTS\n", 1, "more than once"),
        ((WIDE_HEADER + "\n").encode(), 1, "one or more practices"),
        ((WIDE_HEADER + "\nY1,,,1,1\n").encode(), 2, "7 values"),
        ((WIDE_HEADER + '\nY1,"never closed,,1,1,1,1\n').encode(), 2, "closed"),
        ((WIDE_HEADER + '\nY1,"' + "x" * 200_000 + '",,1,1,1,1\n').encode(), 2, "field"),
        ((WIDE_HEADER + "\nY1,," + "x," * 3_000 + "1,1,1,1\n").encode(), 2, "2,000 characters"),
        ((WIDE_HEADER + "\nY1,,,1,1,1,1\nY1,,,1,1,1,1\n").encode(), 3, "also on line 2"),
        ((WIDE_HEADER + "\nY9000-1,,,1,1,1,1\n").encode(), 2, "letters and digits"),
        ((WIDE_HEADER + "\nABCDEFGHIJK,,,1,1,1,1\n").encode(), 2, "letters and digits"),
        ((WIDE_HEADER + "\n,,,1,1,1,1\n").encode(), 2, "letters and digits"),
        ((WIDE_HEADER + "\nY1,Dr\u202eevil,,1,1,1,1\n").encode(), 2, "printable"),
        ((WIDE_HEADER + "\nY1," + "n" * 101 + ",,1,1,1,1\n").encode(), 2, "100 characters"),
        ((WIDE_HEADER + "\nY1,,,1,1,1,-1\n").encode(), 2, "whole number"),
        ((WIDE_HEADER + "\nY1,,,1,1,1.5,1\n").encode(), 2, "whole number"),
        ((WIDE_HEADER + "\nY1,,,1,1,1,1000001\n").encode(), 2, "1,000,000"),
        ((WIDE_HEADER + "\nY1,,,1,1,1," + "9" * 50 + "\n").encode(), 2, "whole number"),
        ((WIDE_HEADER + "\nY1,,,1,1,1,\u00b2\n").encode(), 2, "whole number"),
        ((WIDE_HEADER + "\nY1,,,999999,999999,0,0\n").encode(), 2, "in one practice"),
    ],
)
def test_hostile_files_give_a_config_error_naming_the_line(
    data: bytes, line: int, words: str
) -> None:
    msg = one_problem(data, line)
    assert words in msg, msg


def test_a_problem_names_the_column_and_truncates_the_value() -> None:
    bad = "x" * 500
    msg = one_problem(f"{WIDE_HEADER}\nY1,,,1,1,1,{bad}\n", 2)
    assert "column AGE_85_PLUS" in msg and "allowed" in msg
    assert "x" * 57 + "..." in msg and "x" * 61 not in msg


def test_a_hostile_source_name_is_cleaned() -> None:
    (msg,) = problems(b"", "evil\x1b[31m\u202e.csv" + "y" * 200)
    assert "\x1b" not in msg and "\u202e" not in msg and "y" * 61 not in msg


def test_many_problems_are_reported_together_up_to_twenty() -> None:
    rows = [f"Y{i},,,1,1,-{i},x" for i in range(30)]
    found = problems("\n".join([WIDE_HEADER, *rows]))
    assert len(found) == pr.MAX_PROBLEMS
    assert "line 2, column AGE_75_84" in found[0] and "line 2, column AGE_85_PLUS" in found[1]
    assert "line 11," in found[-1]


def test_too_many_practices() -> None:
    rows = [f"Y{i},,,1,0,0,0" for i in range(MAX_PRACTICES + 1)]
    msg = one_problem("\n".join([WIDE_HEADER, *rows]), MAX_PRACTICES + 2)
    assert f"at most {MAX_PRACTICES:,} practices" in msg
    assert len(read_practices("\n".join([WIDE_HEADER, *rows[:-1]]))) == MAX_PRACTICES


def test_nhs_layout_problems_name_the_line() -> None:
    rows = quin_rows("Y90001", FEMALE, MALE)
    # a group across a band's limit, named
    crossing = [r.replace(",MALE,60_64,", ",MALE,60_69,") for r in rows]
    crossing = [r for r in crossing if ",MALE,65_69," not in r]
    msg = one_problem(quin_file(*crossing), 36)
    assert "'60_69'" in msg and "within one of the model's bands" in msg and "65" in msg
    msg = one_problem(quin_file(*[r.replace("FEMALE,90_94", "FEMALE,65+") for r in rows]), 21)
    assert "'65+'" in msg and "band" in msg
    # a row missing: a gap in the ages
    gap = [r for r in rows if ",MALE,85_89," not in r]
    msg = one_problem(quin_file(*gap), 2)
    assert "SEX MALE" in msg and "ages 85-89" in msg
    # the same row twice
    msg = one_problem(quin_file(*rows, rows[5]), len(rows) + 2)
    assert "also on line 7" in msg
    # groups that overlap
    msg = one_problem(quin_file(*rows, rows[5].replace(",20_24,", ",20_21,")), 2)
    assert "overlap" in msg
    # all-ages rows that do not agree with the groups
    msg = one_problem(quin_file(*[r.replace(",ALL,ALL,2928", ",ALL,ALL,2929") for r in rows]), 2)
    assert "2,928" in msg
    # bad sex and age labels
    msg = one_problem(quin_file(*[r.replace(",MALE,5_9,", ",HIPPO,5_9,") for r in rows]), 25)
    assert "MALE, FEMALE" in msg
    msg = one_problem(quin_file(*[r.replace(",MALE,5_9,", ",MALE,five,") for r in rows]), 25)
    assert "an age" in msg


def test_nhs_files_that_cannot_give_the_population() -> None:
    male_only = [r for r in quin_rows("Y90001", FEMALE, MALE, totals=False) if ",MALE," in r]
    msg = one_problem(quin_file(*male_only), None)
    assert "only SEX MALE" in msg and "join" in msg
    totals = "PUBLICATION,EXTRACT_DATE,TYPE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"
    totals += "GP_PRAC_PAT_LIST,01APR2025,GP,Y90001,ZZ9 9ZZ,ALL,ALL,8900\n"
    msg = one_problem(totals.encode(), 2)
    assert "totals only" in msg
    pcn = quin_file("GP_PRAC_PAT_LIST,01APR2025,PCN,U12345,,,ALL,ALL,50000")
    msg = one_problem(pcn, 1)
    assert "ORG_TYPE GP" in msg and "'PCN'" in msg


def test_every_problem_names_the_source_and_a_line() -> None:
    rows = quin_rows("Y90001", FEMALE, MALE)
    broken = [rows[0], "x", rows[2].replace(",0_4,", ",0_9,"), rows[3].replace(",100", ",-1")]
    for p in problems(quin_file(*broken, *rows[4:])):
        assert re.match(r"upload\.csv, line \d+", p), p


# ----------------------------------------------------------------------------- fuzzing
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_give_practices_or_a_config_error(data: bytes) -> None:
    with contextlib.suppress(ConfigError):
        read_practices(data, "fuzz.csv")


_CELLS = st.one_of(
    st.sampled_from(["Y1", "Y2", "ALL", "MALE", "FEMALE", "0_4", "95+", "85_89", "60_69", "GP"]),
    st.from_regex(r"-?[0-9]{1,8}", fullmatch=True),
    st.text(max_size=12),
)
_ROWS = st.lists(st.lists(_CELLS, max_size=10).map(",".join), max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([QUIN_HEADER, SING_HEADER, WIDE_HEADER]), _ROWS)
def test_random_rows_under_a_real_header_give_practices_or_a_config_error(
    header: str, rows: list[str]
) -> None:
    try:
        got = read_practices("\n".join([header, *rows]), "fuzz.csv")
    except ConfigError:
        return
    with contextlib.suppress(ConfigError):
        neighbourhoods(got, {p.code: "N" for p in got})
