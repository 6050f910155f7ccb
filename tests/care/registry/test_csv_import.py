"""Tests for assistant.care.registry.csv_import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.registry.csv_import import COLUMNS, import_providers_csv
from assistant.care.core.errors import InvalidInput
from assistant.care.core.models import Offering, Provider

EXAMPLE = Path(__file__).resolve().parents[3] / "data" / "registry" / "example_providers.csv"
HEADER = ",".join(COLUMNS)


def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "providers.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _names(care: CareServices) -> list[str]:
    with care.db.reading() as session:
        return sorted(session.scalars(select(Provider.name)))


def test_the_example_file_imports_cleanly(care: CareServices) -> None:
    report = import_providers_csv(care.db, EXAMPLE)

    assert report.skipped == ()
    assert (report.created, report.updated) == (6, 1)  # one provider has two rows
    meadow = care.registry.providers(kind="meal")[0]
    assert meadow.name == "Meadow Lane Meals"
    assert meadow.opening_hours == "Mon-Fri 08:00-18:00; Sat 09:00-13:00"
    assert [o.name for o in care.registry.catering_offerings("Riverside", "table_reservation")] == ["Lunch table"]
    locks = care.registry.offerings("Parkview", kind="repair", mode="locks")
    assert [(o.price_cents, o.duration_minutes) for o in locks] == [(7000, 60)]


def test_a_bad_row_is_reported_and_the_others_imported(care: CareServices, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Good Cleaners,cleaning,Riverside,,yes,mon-fri 08:00-17:00,Home clean,home_clean,30.00,120",
        "Bad Hours Ltd,repair,Riverside,,no,mon-fri 18:00-08:00,Repair,handyman,40,60",
        "Also Good,laundry,Old Town;Parkview,,no,sat 09:00-12:00,Pickup,wash_and_fold,\"12,50\",",
    )

    report = import_providers_csv(care.db, path)

    assert (report.created, report.updated) == (2, 0)
    assert [(p.row, p.name) for p in report.skipped] == [(3, "Bad Hours Ltd")]
    assert "ends before it starts" in report.skipped[0].reason
    assert "row 3 (Bad Hours Ltd)" in str(report)
    assert _names(care) == ["Also Good", "Good Cleaners"]
    assert care.registry.offerings("Parkview", kind="laundry")[0].price_cents == 1250


@pytest.mark.parametrize("row, reason", [
    (",cleaning,Riverside,,yes,mon 08:00-12:00,,,,", "name"),
    ("X,gardening,Riverside,,yes,mon 08:00-12:00,,,,", "kind must be one of"),
    ("X,cleaning,,,yes,mon 08:00-12:00,,,,", "districts is empty"),
    ("X,cleaning,Riverside,,maybe,mon 08:00-12:00,,,,", "verified must be yes or no"),
    ("X,cleaning,Riverside,,yes,,,,,", "Opening hours are missing"),
    ("X,cleaning,Riverside,,yes,mon 08:00-12:00,Clean,home_clean,-3,60", "cannot be negative"),
    ("X,cleaning,Riverside,,yes,mon 08:00-12:00,Clean,home_clean,abc,60", "not a number"),
    ("X,cleaning,Riverside,,yes,mon 08:00-12:00,Clean,,30,60", "offering_mode is empty"),
    ("X,meal,Riverside,,yes,mon 08:00-12:00,Clean,home_clean,30,60", "offering_mode of a meal provider"),
    ("X,cleaning,Riverside,call me,yes,mon 08:00-12:00,,,,", "phone number"),
    ("X,cleaning,Riverside,,yes,mon 08:00-12:00,,,,,extra", "more cells"),
])
def test_each_kind_of_bad_row_is_explained(care: CareServices, tmp_path: Path, row: str, reason: str) -> None:
    report = import_providers_csv(care.db, _write(tmp_path, row))
    assert report.imported == 0
    assert len(report.skipped) == 1 and report.skipped[0].row == 2
    assert reason in report.skipped[0].reason
    assert _names(care) == []


def test_a_row_failing_while_saving_leaves_nothing_behind(care: CareServices, tmp_path: Path) -> None:
    long_offering = "O" * 121
    report = import_providers_csv(
        care.db, _write(tmp_path, f"Half Ltd,cleaning,Riverside,,yes,mon 08:00-12:00,{long_offering},home_clean,30,60")
    )
    assert [p.row for p in report.skipped] == [2]
    assert _names(care) == []


def test_importing_again_updates_instead_of_duplicating(care: CareServices, tmp_path: Path) -> None:
    import_providers_csv(care.db, EXAMPLE)
    changed = _write(
        tmp_path,
        "kwik wash collect,laundry,Old Town;Riverside,+44 20 7946 0999,yes,mon-sat 08:00-19:00,"
        "Wash and fold pickup,wash_and_fold,19.00,30",
    )

    report = import_providers_csv(care.db, changed)

    assert (report.created, report.updated) == (0, 1)
    laundry = care.registry.providers(kind="laundry")
    assert [(p.name, p.phone, p.verified, p.districts) for p in laundry] == [
        ("Kwik Wash Collect", "+44 20 7946 0999", True, ("Old Town", "Riverside")),
    ]
    with care.db.reading() as session:
        prices = session.scalars(select(Offering.price_cents).join(Provider).where(Provider.kind == "laundry")).all()
    assert prices == [1900]


def test_missing_columns_or_file_are_refused(care: CareServices, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("name,kind\nX,cleaning\n")
    with pytest.raises(InvalidInput) as caught:
        import_providers_csv(care.db, path)
    assert "districts" in caught.value.message
    with pytest.raises(InvalidInput):
        import_providers_csv(care.db, tmp_path / "missing.csv")
