"""Dataset kinds: the canonical columns every upload is mapped onto.

This module is the single contract between the loader/validator, the demo-data generator,
the store and the services. Column names here are the *canonical* (English, snake_case)
names; uploads may use any alias listed (English or German, any case/spacing/punctuation),
see :func:`normalise_header`.

Value conventions (what validation produces and the store keeps):
- ``datetime`` columns: timezone-naive local wall-clock ``datetime64[ns]``.
- ``date`` columns: ``datetime64[ns]`` at midnight.
- ``count`` columns: non-negative integers (int64).
- ``number`` columns: finite floats; ``positive`` adds > 0, ``non_negative`` adds >= 0.
- ``bool`` columns: True/False (accepted spellings: yes/no, ja/nein, true/false, wahr/falsch, 1/0, y/n, j/n,
  x/"" — in a column that uses ``x`` marks a blank cell means False; see :data:`BOOL_TRUE`/:data:`BOOL_FALSE`).
- ``list`` columns: ``|``-separated tokens (``;`` and ``,`` accepted inside the cell too);
  for ``skills`` each token is ``name`` or ``name:level`` with level 1..5.
- ``text`` columns: stripped strings without control characters.
- ``time`` columns: a time of day (``06:00``, ``6:00``, ``06:00:00``, ``06:00 Uhr``, an Excel time cell or day
  fraction; ``24:00`` is midnight) or a full date and time. The roster kind places them on the row's ``date``
  (an end that is not after the start lies on the next day), so the stored values are full ``datetime64[ns]``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

#: the zone of the wall-clock times when no settings say otherwise (the settings' default ``APP_TIMEZONE``): used by
#: readers without settings (the ``validate`` CLI, tests) and the demo generator
DEFAULT_TIMEZONE = "Europe/Berlin"

ColumnType = Literal["datetime", "date", "time", "count", "number", "bool", "list", "text", "outcome"]


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of a dataset kind."""

    name: str
    type: ColumnType
    required: bool = True
    aliases: tuple[str, ...] = ()
    positive: bool = False  # numbers: must be > 0
    non_negative: bool = False  # numbers: must be >= 0
    description: str = ""


@dataclass(frozen=True)
class KindSpec:
    """A dataset kind (one upload type)."""

    key: str
    title: str
    columns: tuple[ColumnSpec, ...]
    #: columns that identify a row uniquely (duplicates are errors)
    key_columns: tuple[str, ...]
    #: the time column used for range checks / overlap replacement (None for staff)
    time_column: str | None
    #: columns that together identify one time series (for interval-regularity and gap checks)
    series_columns: tuple[str, ...] = ()
    #: headers of a separate time-of-day column that completes a date-only ``time_column`` (ACD exports write
    #: ``Datum;Uhrzeit`` or ``Date;Interval`` with ``08:00-08:30``); never stored on its own
    time_of_day_aliases: tuple[str, ...] = ()
    #: a count column an export may split into parts, one column each, summed when the column itself is absent:
    #: ``(column, part headers)`` — care-home exports write ``Früh;Spät;Nacht`` instead of one ``Schichten``
    summed_parts: tuple[str, tuple[str, ...]] | None = None
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    #: rows describe planned work (a roster), so dates after today are expected and not warned about
    planned: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


WORKLOAD = KindSpec(
    key="workload",
    title="Workload history (contact centre)",
    description="Volume per interval (15/30/60 minutes) or per day, per queue/channel.",
    columns=(
        ColumnSpec(
            "timestamp", "datetime",
            aliases=("timestamp", "ds", "datetime", "date_time", "interval", "interval_start", "time",
                     "date", "zeitstempel", "datum", "zeit", "datum_uhrzeit", "intervall", "intervallbeginn"),
            description="Start of the interval (local time).",
        ),
        ColumnSpec(
            "queue", "text",
            aliases=("queue", "channel", "skill", "team", "warteschlange", "kanal", "queue_name"),
            description="Queue or channel, e.g. calls, emails, outbound_OOK.",
        ),
        ColumnSpec(
            "volume", "count", non_negative=True,
            aliases=("volume", "calls", "count", "contacts", "offered", "y", "anrufe", "anzahl",
                     "volumen", "kontakte", "menge"),
            description="Number of contacts/items in the interval.",
        ),
        ColumnSpec("site", "text", required=False, aliases=("site", "location", "standort", "center")),
        ColumnSpec(
            "aht_seconds", "number", required=False, positive=True,
            aliases=("aht_seconds", "aht", "aht_s", "handling_time", "bearbeitungszeit", "aht_sekunden"),
            description="Average handling time in seconds.",
        ),
    ),
    key_columns=("timestamp", "queue", "site"),
    time_column="timestamp",
    series_columns=("queue", "site"),
    time_of_day_aliases=("uhrzeit", "time_of_day", "interval_time", "start_time", "startzeit", "beginn", "von",
                         "intervall_von", "interval_from", "zeitintervall", "halbstunde", "viertelstunde", "stunde",
                         "hour"),
)

UNIT_SHIFTS = KindSpec(
    key="unit_shifts",
    title="Unit shifts (care homes)",
    description="Shifts worked per day and unit of each care home.",
    columns=(
        ColumnSpec("date", "date", aliases=("date", "day", "datum", "tag")),
        ColumnSpec("site", "text", aliases=("site", "home", "care_home", "facility", "einrichtung", "heim",
                                            "pflegeheim", "standort")),
        ColumnSpec("unit", "text", aliases=("unit", "ward", "station", "wohnbereich", "bereich")),
        ColumnSpec("shifts", "count", non_negative=True,
                   aliases=("shifts", "shift_count", "schichten", "anzahl_schichten", "dienste")),
    ),
    key_columns=("date", "site", "unit"),
    time_column="date",
    series_columns=("site", "unit"),
    summed_parts=("shifts", ("early", "late", "night", "day_shift", "early_shifts", "late_shifts", "night_shifts",
                             "frueh", "spaet", "nacht", "fruehdienst", "spaetdienst", "nachtdienst", "tagdienst",
                             "fruehschicht", "spaetschicht", "nachtschicht", "tagschicht", "zwischendienst")),
)

STAFF = KindSpec(
    key="staff",
    title="Staff",
    description="One row per employee.",
    columns=(
        ColumnSpec("staff_id", "text", aliases=("staff_id", "employee_id", "id", "personalnummer",
                                                "mitarbeiter_id", "personal_nr", "pers_nr")),
        ColumnSpec("name", "text", aliases=("name", "employee", "full_name", "mitarbeiter")),
        ColumnSpec("site", "text", aliases=("site", "home", "location", "einrichtung", "standort")),
        ColumnSpec("role", "text", aliases=("role", "position", "job", "rolle", "funktion")),
        ColumnSpec("skills", "list", aliases=("skills", "skill", "qualifications", "faehigkeiten",
                                              "fähigkeiten", "qualifikationen", "kenntnisse")),
        ColumnSpec("hire_date", "date", aliases=("hire_date", "hired", "start_date", "eintrittsdatum",
                                                 "eintritt")),
        ColumnSpec("contract_hours", "number", non_negative=True,
                   aliases=("contract_hours", "weekly_hours", "hours_per_week", "vertragsstunden",
                            "wochenstunden", "sollstunden")),
        ColumnSpec("ot_willing", "bool", aliases=("ot_willing", "overtime_willing", "willing_ot",
                                                  "ueberstunden_bereit", "überstunden_bereit", "mehrarbeit")),
        ColumnSpec("preferred_sites", "list", required=False,
                   aliases=("preferred_sites", "preferred_homes", "bevorzugte_einrichtungen",
                            "bevorzugte_standorte")),
    ),
    key_columns=("staff_id",),
    time_column=None,
)

ASSIGNMENTS = KindSpec(
    key="assignments",
    title="Assignment history",
    description="Past task assignments with their outcome.",
    columns=(
        ColumnSpec("task_id", "text", aliases=("task_id", "task", "aufgabe_id", "auftrag_id", "aufgabe")),
        ColumnSpec("staff_id", "text", aliases=("staff_id", "employee_id", "personalnummer", "mitarbeiter_id")),
        ColumnSpec("task_type", "text", aliases=("task_type", "type", "aufgabentyp", "typ", "art")),
        ColumnSpec("priority", "count", non_negative=True, aliases=("priority", "prio", "prioritaet", "priorität")),
        ColumnSpec("due", "datetime", aliases=("due", "due_date", "deadline", "faellig", "fällig", "frist")),
        ColumnSpec("assigned_at", "datetime", aliases=("assigned_at", "assigned", "zugewiesen_am", "zuweisung")),
        ColumnSpec("outcome", "outcome", aliases=("outcome", "result", "ergebnis", "status")),
        ColumnSpec("site", "text", required=False, aliases=("site", "einrichtung", "standort")),
        ColumnSpec("required_skill", "text", required=False,
                   aliases=("required_skill", "skill", "benoetigte_qualifikation", "qualifikation")),
        ColumnSpec("hours", "number", required=False, non_negative=True, aliases=("hours", "stunden", "dauer_h")),
    ),
    key_columns=("task_id", "staff_id"),
    time_column="assigned_at",
)

OVERTIME = KindSpec(
    key="overtime",
    title="Overtime history",
    description="Overtime requests with every contact and response.",
    columns=(
        ColumnSpec("request_id", "text", aliases=("request_id", "request", "anfrage_id", "anfrage")),
        ColumnSpec("shift_date", "date", aliases=("shift_date", "date", "schichtdatum", "datum")),
        ColumnSpec("site", "text", aliases=("site", "home", "einrichtung", "standort")),
        ColumnSpec("shift_type", "text", aliases=("shift_type", "shift", "schichtart", "dienst", "schicht")),
        ColumnSpec("staff_id", "text", aliases=("staff_id", "employee_id", "personalnummer", "mitarbeiter_id")),
        ColumnSpec("contacted_at", "datetime", aliases=("contacted_at", "contacted", "kontaktiert_am",
                                                        "angefragt_am")),
        ColumnSpec("responded_at", "datetime", required=False,
                   aliases=("responded_at", "responded", "response_at", "geantwortet_am", "antwort_am")),
        ColumnSpec("accepted", "bool", aliases=("accepted", "angenommen", "zusage")),
        ColumnSpec("hours_worked", "number", non_negative=True,
                   aliases=("hours_worked", "hours", "stunden", "geleistete_stunden")),
        ColumnSpec("unit", "text", required=False, aliases=("unit", "station", "wohnbereich")),
    ),
    key_columns=("request_id", "staff_id"),
    time_column="shift_date",
)

ROSTER = KindSpec(
    key="roster",
    title="Roster (regular shifts)",
    description="One row per rostered shift: who works when, where. Overtime rankings exclude people rostered at "
                "that time or without the minimum rest, and count rostered hours towards the weekly maximum. Give "
                "a shift type (early, late, night, day; German names work) or start and end times; a night shift "
                "ends on the next day.",
    columns=(
        ColumnSpec("staff_id", "text", aliases=("staff_id", "employee_id", "personalnummer", "mitarbeiter_id",
                                                "personal_nr", "pers_nr")),
        ColumnSpec("date", "date", aliases=("date", "day", "shift_date", "datum", "tag", "dienstdatum",
                                            "schichtdatum"),
                   description="Day the shift starts on."),
        ColumnSpec("shift_type", "text", required=False,
                   aliases=("shift_type", "shift", "schicht", "schichtart", "dienst", "dienstart"),
                   description="early, late, night or day; required unless start and end are given."),
        ColumnSpec("start", "time", required=False,
                   aliases=("start", "start_time", "begin", "from", "beginn", "von", "dienstbeginn", "schichtbeginn",
                            "startzeit"),
                   description="Start time (default: the shift type's usual start)."),
        ColumnSpec("end", "time", required=False,
                   aliases=("end", "end_time", "until", "to", "ende", "bis", "dienstende", "schichtende", "endzeit"),
                   description="End time; not after the start means the next day."),
        ColumnSpec("site", "text", aliases=("site", "home", "care_home", "facility", "einrichtung", "heim",
                                            "pflegeheim", "standort", "haus")),
        ColumnSpec("unit", "text", required=False, aliases=("unit", "ward", "station", "wohnbereich", "bereich")),
        ColumnSpec("hours", "number", required=False, positive=True,
                   aliases=("hours", "paid_hours", "stunden", "arbeitsstunden", "bezahlte_stunden", "dauer_h"),
                   description="Paid hours (default: end − start); counts towards the weekly maximum."),
    ),
    key_columns=("staff_id", "date", "start"),
    time_column="date",
    planned=True,
)

KINDS: dict[str, KindSpec] = {k.key: k for k in (WORKLOAD, UNIT_SHIFTS, STAFF, ASSIGNMENTS, OVERTIME, ROSTER)}

#: usual start (HH:MM) of each canonical shift type: the overtime rules' defaults and a roster row's default start
DEFAULT_SHIFT_STARTS: Mapping[str, str] = MappingProxyType(
    {"early": "06:00", "late": "14:00", "night": "22:00", "day": "08:00"}
)

#: length of a rostered shift given by its type alone (no end time, no hours)
DEFAULT_SHIFT_HOURS = 8.0

#: spellings accepted for the canonical shift types (compared after :func:`normalise_shift_type`)
SHIFT_TYPE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "early": "early", "frueh": "early", "fruehdienst": "early", "fruehschicht": "early", "morning": "early",
        "f": "early",
        "late": "late", "spaet": "late", "spaetdienst": "late", "spaetschicht": "late", "evening": "late",
        "s": "late",
        "night": "night", "nacht": "night", "nachtdienst": "night", "nachtschicht": "night", "n": "night",
        "day": "day", "tag": "day", "tagdienst": "day", "d": "day",
    }
)

OUTCOME_VALUES = {
    "success": True, "successful": True, "succeeded": True, "ok": True, "done": True, "erfolg": True,
    "erfolgreich": True, "1": True, "true": True,
    "failure": False, "failed": False, "fail": False, "not ok": False, "misserfolg": False,
    "fehlgeschlagen": False, "0": False, "false": False,
}

#: accepted spellings of booleans (compared lower-cased and stripped)
BOOL_TRUE = frozenset({"yes", "ja", "true", "wahr", "1", "y", "j", "x"})
BOOL_FALSE = frozenset({"no", "nein", "false", "falsch", "0", "n"})

_NON_WORD = re.compile(r"[^0-9a-z]+")


#: header tokens that name a date (when a file has a date column and a time column that both look like the
#: timestamp, the date one is the timestamp and the other its time of day)
DATE_HEADERS = frozenset({"date", "datum", "day", "tag", "kalendertag"})
#: timestamp aliases that, next to a date column, name only the time of day ("Datum" + "Intervall"); a second
#: full-timestamp header ("Datum" + "Zeitstempel") stays a duplicate-column error
TIME_HEADERS = frozenset({"time", "zeit", "interval", "intervall", "intervallbeginn", "interval_start"})


def normalise_header(name: str) -> str:
    """Map a header to a comparable token: lower case, umlauts folded, runs of non-alphanumerics → ``_``.

    ``"  Anzahl Schichten "`` → ``"anzahl_schichten"``; ``"Fähigkeiten"`` → ``"faehigkeiten"``.
    """
    s = str(name).strip().lower()
    s = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub("_", s).strip("_")


def normalise_shift_type(value: object) -> str:
    """Fold a shift-type spelling to its canonical name (``"Frühdienst"`` → ``"early"``).

    Unknown spellings are returned folded (lower case, umlauts as ``ae``/``oe``/``ue``) so that configured
    custom types still match; the caller decides whether an unknown type is an error.
    """
    folded = normalise_header(value)
    return SHIFT_TYPE_ALIASES.get(folded, folded)


def get_kind(key: str) -> KindSpec:
    """Return the spec for ``key`` or raise ``ValueError`` naming the valid kinds."""
    try:
        return KINDS[key]
    except KeyError:
        raise ValueError(f"Unknown dataset kind {key!r}; choose one of: {', '.join(KINDS)}") from None
