"""The agency export of issue 14: headers Fedlink has never seen, identifying columns under
every kind of name, MM/DD/YYYY birth dates, "FY2016" years and "N/A" amounts."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

import pytest

EXPORT_HEADER = ["CLIENT_ID", "FIRST_NM", "LAST_NM", "BIRTH_DT", "SSN", "GENDER_CD",
                 "ADDR_LINE_1", "CITY_NM", "ZIP_CD", "FISCAL_YR", "BENEFIT_AMT", "PROGRAM_CD",
                 "SCHOOL_CD", "alt_ssn", "student_email", "guardian_name", "phone",
                 "CASE_WORKER"]
GIVEN = ("Valerie", "James", "Maria", "DeShawn", "Emily", "Robert", "Ana", "Kevin", "Linda",
         "Jose", "Karen", "Michael", "Sarah", "David", "Jessica", "Brian", "Nicole", "Daniel")
SURNAMES = ("HOOPER", "SMITH", "GARCIA", "NGUYEN", "JOHNSON", "BROWN", "LOPEZ", "MILLER",
            "DAVIS", "WILSON", "MARTINEZ", "TAYLOR", "ANDERSON", "THOMAS", "MOORE", "JACKSON")
STREETS = ("BROWN LN", "MAIN ST", "OAK AVE", "N ELM DR", "RIVER RD", "HILL CT", "PARK PL")
CITIES = ("RICHMOND", "NORFOLK", "ROANOKE", "FAIRFAX", "BLACKSBURG", "ARLINGTON")
STAFF = ("Ann Lee", "Bob Stone", "Carla Diaz")


def export_rows(n: int, seed: int = 14) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = rng.choice(GIVEN), rng.choice(SURNAMES)
        year = rng.randint(1950, 2012)
        fiscal = rng.randint(2014, 2021)
        rows.append([
            str(700000 + 7 * i), first, last,
            f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{year}",
            f"{rng.randint(100, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}",
            rng.choice("MF"), f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
            rng.choice(CITIES), f"{rng.randint(22001, 24699)}",
            f"FY{fiscal}" if i % 5 else f"{fiscal}-{(fiscal + 1) % 100:02d}",
            "N/A" if i % 7 == 0 else f"{rng.uniform(50, 900):.2f}",
            rng.choice(("SNAP", "TANF", "WIC")), f"{rng.randint(1, 40):04d}",
            f"{rng.randint(100, 665)}{rng.randint(10, 99)}{rng.randint(1000, 9999)}",
            f"{first}.{last}{i}@example.org".lower(),
            f"{rng.choice(GIVEN)} {rng.choice(SURNAMES).title()}",
            f"(804) 555-{i:04d}", rng.choice(STAFF),
        ])
    # the issue's own row
    rows[0][1:7] = ["Valerie", "HOOPER", "11/24/1973", "223-45-6780", "F", "17 BROWN LN"]
    return rows


def write_export(path: Path, rows: int = 120, header: list[str] = EXPORT_HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(export_rows(rows))
    return path


@pytest.fixture
def issue_export(tmp_path: Path) -> Callable[..., Path]:
    def make(rows: int = 120, name: str = "dsx_export.csv") -> Path:
        return write_export(tmp_path / name, rows)

    return make
