"""Data, Users and Audit pages driven through AppTest."""

from __future__ import annotations

import json

from src.data import store
from src.services import auth
from tests.app.conftest import logged_in

GOOD_CSV = (b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,15\n"
            b"2025-03-03 10:00,calls,11\n")
BAD_CSV = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,twelve\n"


def _data_page(ui_app):
    at = logged_in("admin", "admin").run()
    return at.switch_page("pages/data.py").run()


def test_upload_good_file_and_store_it(ui_app):
    at = _data_page(ui_app)
    at.file_uploader[0].upload("calls.csv", GOOD_CSV, "text/csv")
    at.run()
    assert not at.exception, at.exception
    assert at.success, "a clean file shows a success summary"
    store_button = next(b for b in at.button if b.label.startswith("Store"))
    assert not store_button.disabled
    store_button.click()
    at.run()
    assert not at.exception
    assert store.table_row_count(ui_app.engine, "workload") == 3
    assert any("Stored 3 rows" in s.value for s in at.success)


def test_a_stored_file_is_not_offered_for_storing_again(ui_app):
    """After Store the page shows the result and no Store button for the same parsed file (a second click stored
    the rows again or failed on the overlap); another file (or reading option) is offered again."""
    at = _data_page(ui_app)
    at.file_uploader[0].upload("calls.csv", GOOD_CSV, "text/csv")
    at.run()
    next(b for b in at.button if b.label.startswith("Store")).click()
    at.run()
    assert not at.exception, at.exception
    assert store.table_row_count(ui_app.engine, "workload") == 3
    assert not [b for b in at.button if b.label.startswith("Store")], "no second Store for the same file"
    assert any("Stored 3 rows" in s.value for s in at.success)
    at.run()  # any later rerun (another widget) keeps showing the result, still without the button
    assert not [b for b in at.button if b.label.startswith("Store")]
    assert any("Stored 3 rows" in s.value for s in at.success)
    assert any("Choose another file" in c.value for c in at.caption)
    preview = next(d for d in at.dataframe if "aht_seconds" in d.value.columns)
    assert preview.value["aht_seconds"].isna().all() and preview.proto.HasField("placeholder")
    assert preview.proto.placeholder == "", "optional columns not in the file are empty cells, not a grey None"

    other = GOOD_CSV.replace(b"2025-03-03", b"2025-03-04")
    at.file_uploader[0].upload("calls_tuesday.csv", other, "text/csv")
    at.run()
    assert not at.exception, at.exception
    assert not any("Stored 3 rows" in s.value for s in at.success)
    next(b for b in at.button if b.label.startswith("Store")).click()
    at.run()
    assert store.table_row_count(ui_app.engine, "workload") == 6
    assert any("Stored 3 rows from calls\\_tuesday.csv" in s.value for s in at.success), "the name as typed (md)"


def test_broken_file_gets_row_level_report_and_nothing_stored(ui_app):
    at = _data_page(ui_app)
    at.file_uploader[0].upload("broken.csv", BAD_CSV, "text/csv")
    at.run()
    assert not at.exception
    assert at.error, "the summary is an error"
    report = at.table[0].value  # a table whose cells wrap (a dataframe cut the messages off)
    row = report[report["severity"] == "error"].iloc[0]
    assert row["row"] == "3" and row["column"] == "volume" and str(row["value"]) == "twelve", "no quotes"
    assert not report[["row", "column", "value"]].isna().any().any(), "empty cells, not a grey None"
    assert "sheet" not in report.columns  # a CSV has no sheet
    assert all(not b.label.startswith("Store") for b in at.button)  # no preview/store for a broken file
    assert store.table_row_count(ui_app.engine, "workload") == 0


def test_wide_queue_sheet_is_stored_after_ticking_one_column_per_queue(ui_app):
    sheet = b"Datum;Uhrzeit;Service;Vertrieb\n04.03.2025;08:00;12;3\n04.03.2025;08:30;15;\n"
    at = _data_page(ui_app)
    at.file_uploader[0].upload("plan.csv", sheet, "text/csv")
    at.run()
    assert at.error and not [b for b in at.button if b.label.startswith("Store")]
    at.checkbox(key=next(c.key for c in at.checkbox if c.label == "One column per queue")).check().run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label.startswith("Store")).click().run()
    assert not at.exception
    stored = store.load_frame(ui_app.engine, "workload").sort_values(["timestamp", "queue"])
    assert stored["queue"].tolist() == ["Service", "Vertrieb", "Service"] and stored["volume"].tolist() == [12, 3, 15]


def test_users_page_adds_a_user(ui_app):
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/users.py").run()
    assert not at.exception
    at.text_input[0].input("nina")
    at.text_input[1].input("Nina Nurse")
    at.text_input[2].input("Strong-Pass-123")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert not at.exception
    assert any("nina created" in s.value for s in at.success)
    assert any(u["username"] == "nina" for u in auth.list_users(ui_app, auth_admin()))


def test_users_page_shows_policy_errors(ui_app):
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/users.py").run()
    at.text_input[0].input("nina")
    at.text_input[1].input("Nina")
    at.text_input[2].input("weak")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert not at.exception
    assert any("at least" in e.value for e in at.error)


def test_audit_page_lists_events(ui_app):
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    events = at.dataframe[0].value
    assert "user.create" in set(events["action"])


def column_labels(table) -> dict[str, str]:
    """The header each column of an ``st.dataframe`` shows (its column_config label), by column name."""
    import json

    return {k: v.get("label") for k, v in json.loads(table.proto.columns or "{}").items()}


def auth_admin():
    from tests.conftest import ADMIN

    return ADMIN


def test_users_page_creates_an_api_token_shown_once(ui_app):
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/users.py").run()
    name_input = next(t for t in at.text_input if t.label == "Token name")
    name_input.input("telephony")
    next(b for b in at.button if b.label == "Create token").click()
    at.run()
    assert not at.exception
    token = next(c.value for c in at.code if c.value.startswith("wfp_"))
    from src.services.tokens import authenticate_token

    assert authenticate_token(ui_app, token).role == "planner"


def test_xlsx_upload_is_parsed_in_the_isolated_worker_from_the_app(ui_app):
    """Regression: the spawned worker must not re-run the app script (Streamlit's __main__) and die."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "unit_shifts_sample_de.xlsx"
    at = _data_page(ui_app)
    at.selectbox[0].select("unit_shifts")
    at.run()
    at.file_uploader[0].upload(sample.name, sample.read_bytes(),
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    at.run(timeout=60)
    assert not at.exception
    assert at.success and "ready to import" in at.success[0].value


def test_overtime_pages_explain_an_empty_store(ui_app):
    import pytest

    for page in ("pages/overtime.py", "pages/overtime_fairness.py", "pages/overtime_rankings.py"):
        at = logged_in("pat", "planner").run()
        at.switch_page(page).run()
        assert not at.exception, page
        if not any("No staff list" in i.value for i in at.info):
            pytest.fail(f"{page} does not say that no staff list is stored")


def _users_page():
    at = logged_in("admin", "admin").run()
    return at.switch_page("pages/users.py").run()


def test_users_table_and_pickers_show_a_change_at_once(ui_app):
    """The user table and the user pickers are drawn above the forms: after Add user / Disable they were stale
    until the next click (the new user missing, the disabled one shown enabled)."""
    at = _users_page()
    at.text_input[0].input("nina")
    at.text_input[1].input("Nina Nurse")
    at.text_input[2].input("Strong-Pass-123")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert not at.exception, at.exception
    assert "nina" in set(at.dataframe[0].value["username"])
    assert "nina" in at.selectbox(key="wfp_disable_user").options
    assert any("nina created" in s.value for s in at.success)
    at.selectbox(key="wfp_disable_user").set_value("nina")
    next(b for b in at.button if b.label == "Apply").click()
    at.run()
    assert not at.exception, at.exception
    assert bool(at.dataframe[0].value.set_index("username").loc["nina", "disabled"])
    assert any("nina disabled" in s.value for s in at.success)


def test_generated_password_is_shown_once_after_the_reset(ui_app):
    at = _users_page()
    at.selectbox(key="wfp_pw_user").set_value("pat")
    next(c for c in at.checkbox if c.label.startswith("Generate")).check()
    next(b for b in at.button if b.label == "Reset password").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Password of pat changed" in s.value for s in at.success)
    assert any(i.value.startswith("New password for pat") for i in at.info)
    at.run()
    assert not [i for i in at.info if i.value.startswith("New password")], "shown only once"


def test_token_table_says_dash_for_never_revoked_and_never_used(ui_app):
    at = _users_page()
    next(t for t in at.text_input if t.label == "Token name").input("telephony")
    next(b for b in at.button if b.label == "Create token").click()
    at.run()
    tokens = next(d.value for d in at.dataframe if "revoked_at" in d.value.columns)
    assert tokens["revoked_at"].tolist() == ["–"] and tokens["last_used_at"].tolist() == ["–"]
    next(b for b in at.button if b.label == "Revoke").click()
    at.run()
    assert not at.exception, at.exception
    tokens = next(d.value for d in at.dataframe if "revoked_at" in d.value.columns)
    assert tokens["revoked_at"].iloc[0] != "–", "the revoked token shows its revocation at once"
    assert len(tokens["revoked_at"].iloc[0]) == len("2026-12-03 16:50:55"), "to the second, like created_at"
    assert not [b for b in at.button if b.label == "Revoke"], "nothing left to revoke"


def test_xlsx_is_read_as_a_sheet_and_history_names_datasets(ui_app):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "workload_sample.xlsx"
    at = _data_page(ui_app)
    at.file_uploader[0].upload(sample.name, sample.read_bytes(),
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    at.run(timeout=60)
    assert not at.exception, at.exception
    assert next(m for m in at.metric if m.label == "Read as").value == "sheet workload"
    next(b for b in at.button if b.label.startswith("Store")).click()
    at.run(timeout=60)
    staff = Path(__file__).resolve().parents[2] / "data" / "sample" / "staff_sample.csv"
    from src.services import data as data_service
    from tests.conftest import ADMIN

    assert data_service.ingest_upload(ui_app, ADMIN, kind="staff", filename=staff.name,
                                      content=staff.read_bytes()).stored
    at.run()
    history = at.dataframe[-1].value.set_index("file_name")
    assert history.loc["workload_sample.xlsx", "kind"] == "Workload history (contact centre)"
    assert history.loc["workload_sample.xlsx", ["range_start", "range_end"]].tolist() == ["2026-10-04", "2026-10-31"]
    assert history.loc["staff_sample.csv", ["range_start", "range_end"]].tolist() == ["–", "–"]


def test_add_user_keeps_what_was_typed_when_the_password_is_rejected(ui_app):
    """Issue 13.6: a rejected password cleared the user name and display name too (clear_on_submit)."""
    at = _users_page()
    at.text_input(key="wfp_add_username").input("nina")
    at.text_input(key="wfp_add_display").input("Nina Nurse")
    at.text_input(key="wfp_add_password").input("weak")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert not at.exception, at.exception
    assert any("at least" in e.value for e in at.error)
    assert at.text_input(key="wfp_add_username").value == "nina"
    assert at.text_input(key="wfp_add_display").value == "Nina Nurse"
    at.text_input(key="wfp_add_password").input("Strong-Pass-123")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert not at.exception, at.exception
    assert any("nina created" in s.value for s in at.success)
    assert at.text_input(key="wfp_add_username").value == "", "a created user empties the form"
    assert at.text_input(key="wfp_add_display").value == ""


def test_users_table_has_readable_headers_and_local_times(ui_app):
    """Issue 13.13/14: no display_name/created_at headers; times in the app's zone, not UTC."""
    at = _users_page()
    users = at.dataframe[0]
    labels = column_labels(users)
    assert labels.get("display_name") == "display name" and labels.get("created_at") == "created"
    created_utc = auth.list_users(ui_app, auth_admin())[0]["created_at"]
    import pandas as pd

    shown = users.value.set_index("username").loc[auth.list_users(ui_app, auth_admin())[0]["username"], "created_at"]
    expected = pd.Timestamp(created_utc).tz_localize("UTC").tz_convert(ui_app.settings.timezone).tz_localize(None)
    assert pd.Timestamp(shown) == expected


def test_audit_page_shows_local_times_and_a_readable_detail(ui_app):
    """Issue 13.13/14: the table showed ts_utc and raw detail_json; the date inputs said UTC."""
    import pandas as pd

    at = logged_in("admin", "admin").run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception, at.exception
    events = at.dataframe[0].value
    assert "ts_utc" not in events.columns and "detail_json" not in events.columns
    create = events[(events["action"] == "user.create") & (events["object id"] == "pat")].iloc[0]
    assert create["detail"] == "role: planner", create["detail"]
    stored = store.audit_events(ui_app.engine, action="user.create")
    utc = pd.Timestamp(stored.loc[stored["object_id"] == "pat", "ts_utc"].iloc[0])
    assert pd.Timestamp(create["time"]) == utc.tz_localize("UTC").tz_convert(ui_app.settings.timezone).tz_localize(None)
    assert [d.label for d in at.date_input] == ["From", "To"]
    assert all(d.proto.format == "YYYY-MM-DD" for d in at.date_input), "the format every page uses"


def test_readable_detail_of_nested_and_odd_values():
    from src.services.audit import readable_detail

    assert readable_detail('{"after": {"ml_enabled": true}, "replaced_rows": 0}') == \
        "after: ml_enabled yes · replaced rows: 0"
    assert readable_detail("not json") == "not json" and readable_detail(None) == ""


MESSY_CSV = (b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,twelve\n"
             b"2025-03-03 10:00,calls,-3\n2025-03-03 11:00,,4\n2025-03-0x 12:00,calls,5\n2025-03-03 13:00,calls,1.5\n"
             b"2025-03-03 08:00,calls,12\n")


def test_validation_report_is_sorted_unquoted_and_counted_in_whole_numbers(ui_app):
    """Issue 13.12: the report listed rows in check order (row 6 before row 3) with values in quotes ('twelve'),
    its messages were cut off, and the chart's axis counted 0.5 problems."""
    at = _data_page(ui_app)
    at.file_uploader[0].upload("messy.csv", MESSY_CSV, "text/csv")
    at.run()
    assert not at.exception, at.exception
    report = at.table[0].value
    errors = report[report["severity"] == "error"]
    rows = [int(r) for r in errors["row"]]
    assert rows == sorted(rows), rows
    assert list(report["severity"]).index("error") == 0 and "'" not in "".join(report["value"])
    assert "2025-03-0x 12:00" in set(report["value"])
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if "Problems per column" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert chart["layout"]["yaxis"]["tickformat"] == ",d" and chart["layout"]["yaxis"]["dtick"] == 1


def test_audit_page_shows_one_event_whole(ui_app):
    """A long detail is cut off in its cell: an event picked below the table is shown whole, one entry a line."""
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/audit.py").run()
    picker = at.selectbox(key="wfp_audit_event")
    assert any(o.endswith("user.create · admin") for o in picker.options)
    event_id = store.audit_events(ui_app.engine, action="user.create").set_index("object_id").loc["admin", "id"]
    picker.set_value(int(event_id))
    at.run()
    assert not at.exception, at.exception
    assert any(t.value == "bootstrap: yes\nrole: admin" for t in at.text)
