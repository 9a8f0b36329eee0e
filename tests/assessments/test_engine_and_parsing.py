"""The pure parts: criterion rules, conditions, revocation bands, value spellings, file readers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from app.assessments import engine
from app.assessments.coerce import Rules, ValueProblem, coerce, compile_parser
from app.assessments.imports import parsing
from app.models.enums import CriterionStatus

IDS = [uuid.uuid4() for _ in range(4)]
C = uuid.uuid4()


def _indicator(n: int, kind: str = "number", comparator: str | None = "ge") -> engine.IndicatorSpec:
    return engine.IndicatorSpec(IDS[n], f"1.{n + 1}", C, f"i{n}", kind, comparator, "%")


def _spec(
    rule: str, k: int | None = None, kinds: tuple[str, ...] = ("number",) * 3
) -> engine.SetSpec:
    indicators = tuple(_indicator(n, kind) for n, kind in enumerate(kinds))
    criterion = engine.CriterionSpec(C, 1, "c", rule, k, None, tuple(i.id for i in indicators))
    return engine.SetSpec(
        uuid.uuid4(),
        "S",
        "s",
        "ntm_commune",
        "commune",
        2021,
        2025,
        "published",
        (criterion,),
        indicators,
        revocation_bands=(
            engine.RevocationBand(0.5),
            engine.RevocationBand(0.3, 0.5, (1,)),
        ),
    )


def _values(*numbers: float | None) -> dict[uuid.UUID, engine.StoredValue]:
    return {
        IDS[n]: engine.StoredValue(IDS[n], value, None, None, None)
        for n, value in enumerate(numbers)
        if value is not None
    }


THRESHOLDS = {IDS[n]: engine.Threshold(50.0, "default") for n in range(3)}


@pytest.mark.parametrize(
    ("rule", "k", "numbers", "expected"),
    [
        ("all", None, (60, 70, 80), "met"),
        ("all", None, (60, 40, 80), "not_met"),
        ("all", None, (60, None, 80), "not_met"),  # missing is never met
        ("any", None, (10, 20, 50), "met"),
        ("any", None, (10, 20, 30), "not_met"),
        ("at_least", 2, (60, 20, 55), "met"),
        ("at_least", 2, (60, 20, 30), "not_met"),
        ("judgement", None, (60, 70, 80), "undetermined"),
    ],
)
def test_criterion_rules(
    rule: str, k: int | None, numbers: tuple[float | None, ...], expected: str
) -> None:
    result = engine.evaluate(_spec(rule, k), THRESHOLDS, _values(*numbers), {}, {})
    assert result.criteria[0].status == expected


def test_a_number_without_threshold_is_undetermined_and_so_is_its_criterion() -> None:
    thresholds = {
        IDS[0]: engine.Threshold(50.0, "x"),
        IDS[1]: engine.Threshold(None, "left to the province"),
    }
    result = engine.evaluate(
        _spec("all", kinds=("number", "number")), thresholds, _values(60, 99), {}, {}
    )
    indicator = result.criteria[0].indicators[1]
    assert indicator.status == "undetermined"
    assert indicator.reason == "left to the province"
    assert result.criteria[0].status == "undetermined"
    assert result.title.attainable is False
    assert result.summary.criteria_undetermined == 1
    assert result.summary.criteria_not_met == 0
    assert result.title.blocking == (
        engine.Message(engine.Msg.CRITERIA_UNDETERMINED, {"count": 1, "total": 1}),
    )


def test_basically_met_only_through_recorded_judgements() -> None:
    spec = _spec("all", kinds=("number", "judgement"))
    values = {
        IDS[0]: engine.StoredValue(IDS[0], 60.0, None, None, None),
        IDS[1]: engine.StoredValue(IDS[1], None, None, "basically_met", "đang hoàn thiện"),
    }
    result = engine.evaluate(spec, THRESHOLDS, values, {}, {})
    assert result.criteria[0].status == "basically_met"
    assert result.summary.criteria_met == 0
    judged = engine.StoredJudgement(C, "met", "đoàn thẩm định kết luận đạt")
    result = engine.evaluate(spec, THRESHOLDS, values, {C: judged}, {})
    assert result.criteria[0].computed_status == "basically_met"
    assert result.criteria[0].status == "met"


def test_distance_and_comparators() -> None:
    le = engine.IndicatorSpec(IDS[0], "x", C, "x", "number", "le", "%")
    result = engine.evaluate_indicator(
        le, engine.StoredValue(IDS[0], 7.5, None, None, None), engine.Threshold(5.0, "r")
    )
    assert (result.status, result.distance) == ("not_met", 2.5)
    ge = engine.IndicatorSpec(IDS[0], "x", C, "x", "number", "ge", "%")
    result = engine.evaluate_indicator(
        ge, engine.StoredValue(IDS[0], 47.5, None, None, None), engine.Threshold(50.0, "r")
    )
    assert result.distance == 2.5
    yes_no = engine.IndicatorSpec(IDS[0], "x", C, "x", "boolean", "eq", None)
    result = engine.evaluate_indicator(
        yes_no, engine.StoredValue(IDS[0], None, False, None, None), None
    )
    assert result.status == "not_met"


def test_conditions_left_to_the_province_are_unverified() -> None:
    rate = engine.ConditionSpec("resident_satisfaction", "r", "number", "ge", None, "%", True)
    result = engine.evaluate_condition(
        rate, engine.StoredCondition("resident_satisfaction", 95.0, None)
    )
    assert result.status == "unverified"
    debt = engine.ConditionSpec("no_outstanding_construction_debt", "d", "boolean", "eq", True)
    result = engine.evaluate_condition(debt, engine.StoredCondition("x", None, False))
    assert result.status == "not_met"


def _criterion(number: int, status: CriterionStatus) -> engine.CriterionResult:
    return engine.CriterionResult(
        uuid.uuid4(), number, f"c{number}", None, "all", status, status, None, None, ()
    )


@pytest.mark.parametrize(
    ("statuses", "falls", "key"),
    [
        (["met"] * 5 + ["not_met"] * 5, True, []),  # 50 %: the first band
        (["not_met"] * 3 + ["met"] * 7, True, [1]),  # 30 % with criterion 1 among them
        (["met"] + ["not_met"] * 3 + ["met"] * 6, False, None),  # 30 % without a key criterion
        (["not_met"] * 2 + ["met"] * 8, False, None),  # 20 %
    ],
)
def test_revocation_bands(statuses: list[str], falls: bool, key: list[int] | None) -> None:
    criteria = [_criterion(n + 1, CriterionStatus(s)) for n, s in enumerate(statuses)]
    bands = (engine.RevocationBand(0.5), engine.RevocationBand(0.3, 0.5, (1, 8)))
    result = engine.evaluate_revocation(bands, criteria, None)
    assert result.falls_under_band is falls
    if key is not None:
        assert result.band is not None
        assert list(result.band.key_criteria_failing) == key


@pytest.mark.parametrize(
    ("raw", "rules", "expected"),
    [
        ("12.5", Rules("number"), (12.5, None, None)),
        ("85%", Rules("number", "%"), (85.0, None, None)),
        (" 7 ", Rules("number"), (7.0, None, None)),
        ("Có", Rules("boolean"), (None, True, None)),
        ("không", Rules("boolean"), (None, False, None)),
        (True, Rules("boolean"), (None, True, None)),
        ("Cơ bản đạt", Rules("judgement"), (None, None, "basically_met")),
        ("chưa đạt", Rules("judgement"), (None, None, "not_met")),
    ],
)
def test_value_spellings(raw: object, rules: Rules, expected: tuple[object, ...]) -> None:
    assert compile_parser(rules)(raw) == expected
    typed = coerce(raw, rules)
    assert (typed.number, typed.boolean, typed.judgement) == expected


@pytest.mark.parametrize(
    ("raw", "rules", "code"),
    [
        ("1,5", Rules("number"), "value_kind_mismatch"),
        ("1_000", Rules("number"), "value_kind_mismatch"),
        ("nan", Rules("number"), "value_kind_mismatch"),
        (True, Rules("number"), "value_kind_mismatch"),
        ("-1", Rules("number", "%"), "value_out_of_range"),
        ("100.5", Rules("number", "%"), "value_out_of_range"),
        ("3", Rules("number", None, 5, None), "value_out_of_range"),
        ("maybe", Rules("boolean"), "value_kind_mismatch"),
        ("", Rules("number"), "missing_value"),
    ],
)
def test_value_refusals(raw: object, rules: Rules, code: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        compile_parser(rules)(raw)
    assert caught.value.code == code


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_json_stream_reads_arrays_wrappers_and_lines(tmp_path: Path) -> None:
    row = b'{"unit_code": "07450", "year": 2023, "indicator_code": "1.1", "value": 42}'
    for content in (
        b"[" + b",".join([row] * 3) + b"]",
        b'{"rows": [' + b",".join([row] * 3) + b"]}",
        b"\n".join([row] * 3) + b"\n",
        b"\xef\xbb\xbf [\n" + b",\n".join([row] * 3) + b"\n]\n",
    ):
        path = _write(tmp_path, "v.json", content)
        rows = list(parsing.iter_json(path, None))
        assert [r.row for r in rows] == [1, 2, 3]
        assert rows[0].unit_code == "07450"
        assert rows[0].value == 42
    big = b"[" + b",".join([row] * 5000) + b"]"
    assert len(list(parsing.iter_json(_write(tmp_path, "big.json", big), None))) == 5000
    with pytest.raises(parsing.FileProblem) as caught:
        list(parsing.iter_json(_write(tmp_path, "cut.json", big[: len(big) // 2]), None))
    assert caught.value.code == "truncated_file"
    with pytest.raises(parsing.FileProblem) as caught:
        list(parsing.iter_json(_write(tmp_path, "bad.json", b"[" + row + b" " + row + b"]"), None))
    assert caught.value.code == "malformed_file"


def test_csv_long_rows_restore_only_the_cells_an_export_neutralised(tmp_path: Path) -> None:
    lines = [
        "unit_code,year,indicator_code,value,note,extra",
        "07450,2023,1.1,'-5,'=SUM(A1),x",  # neutralised value and note
        "07450,2023,1.2,42,l'an dernier,'=kept",  # an inner apostrophe; an unread column
        "07450,2023,1.3,'quoted,'+1",  # not a formula start: kept; a neutralised "+1"
        "07450,2023,1.4,7",  # a short row
        "07450,2023,1.5,8,,",  # the last row (read by the general path)
    ]
    path = _write(tmp_path, "n.csv", ("\n".join(lines) + "\n").encode())
    rows = list(parsing.iter_csv(path, None))
    assert [(r.indicator_code, r.value, r.note) for r in rows] == [
        ("1.1", "-5", "=SUM(A1)"),
        ("1.2", "42", "l'an dernier"),
        ("1.3", "'quoted", "+1"),
        ("1.4", "7", None),
        ("1.5", "8", ""),
    ]


def test_csv_semicolons_bom_default_year_and_wide_layout(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "v.csv", "\ufeffunit_code;indicator_code;value\r\n07450;1.1;42\r\n".encode()
    )
    rows = list(parsing.iter_csv(path, 2023))
    assert [(r.unit_code, r.year, r.indicator_code, r.value) for r in rows] == [
        ("07450", 2023, "1.1", "42")
    ]
    info: dict[str, str] = {}
    wide = _write(tmp_path, "w.csv", b"unit_code,unit_name,year,1.1,2.1\n07450,X,2023,42,\n")
    rows = list(parsing.iter_rows(wide, "csv", None, info))
    assert info["layout"] == "wide"
    assert [(r.indicator_code, r.value, r.column) for r in rows] == [("1.1", "42", "1.1")]
