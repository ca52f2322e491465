"""Data (admin): upload → preview → validation report → store; upload history, delete a batch; samples."""

from __future__ import annotations

import hashlib

import streamlit as st

from src.data.kinds import KINDS
from src.data.loader import ParseOptions
from src.data.validation import ValidationReport
from src.services import data as data_service
from src.services.context import Actor, PermissionDenied, ServiceError
from src.ui import charts_data as charts
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.dates import DATETIME_COLUMN_FORMAT, fmt_datetime, local_column
from src.ui.tables import dash_missing, right_text
from src.ui.text import md

actor = require_page_role("admin")
app = app_context()

st.title("Data")
st.caption("Upload history as CSV or Excel (.xlsx). Headers may be English or German in any case; "
           "`,` `;` or tab separated; UTF-8, UTF-16 or Windows-1252. Nothing is stored until the file is clean.")


@st.cache_data(max_entries=8, ttl=3600, show_spinner="Reading and checking the file…")
def _validate(_actor: Actor, kind: str, name: str, content: bytes, options: ParseOptions) -> ValidationReport:
    return data_service.validate_upload(app, _actor, kind=kind, filename=name, content=content, options=options)


upload_tab, history_tab, samples_tab = st.tabs(["Upload", "Upload history", "Sample files"])

with upload_tab:
    left, right = st.columns([2, 1])
    kind = left.selectbox("What does the file contain?", list(KINDS), format_func=lambda k: KINDS[k].title,
                          key=state.key("data_kind"))
    spec = KINDS[kind]
    left.caption(spec.description)  # escaped: the kind's own text
    right.markdown("**Expected columns**  \n" + "  \n".join(
        f"`{c.name}`{'' if c.required else ' (optional)'}" for c in spec.columns))
    with st.expander("Reading options (leave on *auto* unless the report asks you to choose)"):
        c1, c2, c3, c4 = st.columns(4)
        encoding = c1.selectbox("Encoding", ["auto", "utf-8", "utf-16", "cp1252"], key=state.key("enc"))
        separator = c2.selectbox("Separator", ["auto", ",", ";", "\t"], key=state.key("sep"),
                                 format_func=lambda s: {"\t": "tab"}.get(s, s))
        decimal = c3.selectbox("Decimal mark", ["auto", ".", ","], key=state.key("dec"))
        date_order = c4.selectbox("Date order", ["auto", "dmy", "mdy", "ymd"], key=state.key("dates"),
                                  format_func=lambda s: {"auto": "auto", "dmy": "day/month/year",
                                                         "mdy": "month/day/year", "ymd": "year/month/day"}[s])
        sheet = st.text_input("Excel sheet (empty = first visible sheet)", key=state.key("sheet")).strip() or None
        queues_in_columns = kind == "workload" and st.checkbox(
            "One column per queue", key=state.key("wide"),
            help="A planner's sheet whose rows are intervals and whose columns are queues (e.g. Datum; Uhrzeit; "
                 "Service; Vertrieb) instead of queue and volume columns. Empty cells are intervals without data.")
    upload = st.file_uploader("File", type=["csv", "xlsx", "txt", "tsv"], key=state.key("upload"),
                              max_upload_size=app.settings.upload_max_mb)
    if upload is not None:
        content = upload.getvalue()
        options = ParseOptions(encoding=encoding, separator=separator, decimal=decimal, date_order=date_order,
                               sheet=sheet, queues_in_columns=queues_in_columns)
        try:
            report = _validate(actor, kind, upload.name, content, options)
        except data_service.UploadBusy as exc:  # every upload worker is reading another file: nothing was read
            st.warning(md(str(exc)), icon=":material/hourglass_empty:")
            st.button("Check the file again", key=state.key("busy_retry"))
            st.stop()
        issues = data_service.report_table(report)  # errors first, by row; values without their quotes
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Rows read", f"{report.rows_read:,}")
        m2.metric("Errors", len(report.errors))
        m3.metric("Warnings", len(report.warnings))
        # a workbook has no encoding or separator: its sheet alone ("workload") read like a dataset kind
        m4.metric("Read as", " · ".join(x for x in (report.encoding, {"\t": "tab"}.get(report.separator or "",
                                                                                  report.separator),
                                                    f"sheet {report.sheet}" if report.sheet else None)
                                        if x) or "—")
        # the summary names the file, the recognised columns are the file's own headers: shown as typed
        if report.ok:
            st.success(md(report.summary()))
        else:
            st.error(md(report.summary()))
        if report.column_map:
            st.caption("Columns recognised: " + ", ".join(f"{md(k)} → {md(v)}" for k, v in report.column_map.items()))
        if len(issues):
            st.subheader("Validation report")
            # file-level notes have no sheet/row/column/value: empty cells, not a grey "None"
            # a static table whose cells wrap: st.dataframe cut every longer message off at the cell's edge (its
            # cells never wrap). st.table renders Markdown, so the file's own values and headers go through md();
            # file-level notes have no sheet/row/column/value: empty cells, not a grey "None"
            shown = dash_missing(issues, {"sheet": "{}", "row": "{}", "column": "{}", "value": "{}"}, missing="")
            shown = shown[[c for c in ("severity", "sheet", "row", "column", "value", "message")
                           if c != "sheet" or shown["sheet"].ne("").any()]]
            shown = shown.assign(**{c: shown[c].map(md) for c in ("sheet", "column", "value", "message") if c in shown})
            st.table(shown, hide_index=True)
            from src.data.export import to_csv_bytes

            st.download_button("Download the report (CSV)", to_csv_bytes(report.to_frame()),
                               file_name=f"{upload.name}.report.csv", mime="text/csv", on_click="ignore")
            if len(issues) > 3:
                st.plotly_chart(charts.issue_counts(issues), width="stretch")
        if report.frame is not None:
            st.subheader("Preview")
            # optional columns the file does not give (site, AHT): empty cells, not a grey "None"
            st.dataframe(report.frame.head(50), hide_index=True, width="stretch", placeholder="")
            # What a Store click would store: this file, read as this kind with these options. Once it is stored,
            # the page shows the result instead of the button — a second click stored the rows again (or failed
            # on the overlap) — until another file, kind or reading option makes it a different upload.
            upload_id = hashlib.sha256(content).hexdigest() + "|" + "|".join((kind, upload.name, repr(options)))
            stored = state.get("data_stored")
            if stored is not None and stored[0] == upload_id:
                st.success(md(stored[1]))
                st.caption("This file is stored. Choose another file, dataset or reading option to upload again.")
            else:
                policy = st.radio("If rows overlap data already stored", ["reject", "replace"], horizontal=True,
                                  key=state.key("policy"),
                                  format_func=lambda p: {"reject": "Reject the upload (store nothing)",
                                                         "replace": "Replace the overlapping range"}[p])
                # what 'replace' would delete, before the click: a roster of 87 rows replaced 288 stored shifts (the
                # site's whole period, people not in the file included) and the admin learnt it afterwards
                overlap = data_service.preview_replace(app, actor, kind=kind, frame=report.frame) \
                    if report.ok else None
                replacing = overlap is not None and overlap.rows > 0 and policy == "replace"
                confirmed = True
                if overlap is not None and overlap.rows:
                    (st.warning if replacing else st.info)(md(overlap.message))
                    if replacing:
                        confirmed = st.checkbox(
                            f"Delete the {overlap.rows:,} stored row(s) listed above and store this file instead",
                            key=state.key("replace_ok_" + hashlib.sha1(upload_id.encode()).hexdigest()[:12]))
                label = f"Store {len(report.frame):,} rows" + (
                    f", replacing {overlap.rows:,}" if replacing and overlap is not None else "")
                if st.button(label, type="primary", key=state.key("store"),
                             disabled=not report.ok or not confirmed):
                    try:
                        outcome = data_service.ingest_upload(app, actor, kind=kind, filename=upload.name,
                                                             content=content, options=options, policy=policy)
                    except data_service.UploadBusy as exc:
                        st.warning(md(str(exc)), icon=":material/hourglass_empty:")
                        st.stop()
                    if outcome.stored:
                        state.put("data_stored", (upload_id, outcome.message))
                        st.rerun()  # redraw without the Store button (it was drawn before the click was handled)
                    else:
                        st.error(md(outcome.message))

with history_tab:
    flash = st.session_state.pop(state.key("delete_flash"), None)
    if flash:
        st.success(md(flash))
    history = data_service.upload_history(app, actor)
    if len(history):
        # who and when first; the 64-character SHA-256 last (it pushed "by" and "at" out of sight)
        shown = dash_missing(history.assign(kind=history["kind"].map(lambda k: KINDS[k].title if k in KINDS else k),
                                            uploaded_at=local_column(history["uploaded_at"])),
                             {"range_start": "{:%Y-%m-%d}", "range_end": "{:%Y-%m-%d}"})
        st.dataframe(shown, hide_index=True, width="stretch", column_order=[
            "id", "kind", "file_name", "rows", "replaced_rows", "policy", "uploaded_by", "uploaded_at", "range_start",
            "range_end", "sha256"], column_config={
            "id": st.column_config.NumberColumn("#", format="%d", width="small"),
            "kind": st.column_config.TextColumn("dataset"), "file_name": st.column_config.TextColumn("file"),
            "rows": st.column_config.NumberColumn("rows", format="localized"),
            "replaced_rows": st.column_config.NumberColumn("replaced", format="localized"),
            "policy": st.column_config.TextColumn("overlap"), "uploaded_by": st.column_config.TextColumn("by"),
            "uploaded_at": st.column_config.DatetimeColumn("at", format=DATETIME_COLUMN_FORMAT),
            "range_start": right_text("from"), "range_end": right_text("to"),
            "sha256": st.column_config.TextColumn("SHA-256", width="small")})
    else:
        st.caption("No uploads yet.")
    if actor.is_admin and len(history):
        st.subheader("Delete an upload batch")
        st.caption("Removes every row this batch stored and the batch itself, in one step that is audited. "
                   "Rows that the batch replaced when it was stored are not restored.")
        labels = {int(r.id): f"#{r.id} · {KINDS[r.kind].title if r.kind in KINDS else r.kind} · {r.file_name} · "
                             f"{fmt_datetime(r.uploaded_at, utc=True)}" for r in history.itertuples()}
        batch_id = st.selectbox("Batch", list(labels), format_func=labels.get, index=None,
                                placeholder="Choose a batch from the history", key=state.key("delete_batch"))
        if batch_id is not None:
            try:
                preview = data_service.describe_batch(app, actor, batch_id)
            except (ServiceError, PermissionDenied) as exc:
                st.error(md(exc))
            else:
                title = KINDS[preview.kind].title if preview.kind in KINDS else preview.kind
                covers = (f" Covers {preview.range_start:%Y-%m-%d} – {preview.range_end:%Y-%m-%d}."
                          if preview.range_start is not None and preview.range_end is not None else "")
                st.markdown(f"**{title}** from {md(preview.file_name)}, uploaded by **{md(preview.uploaded_by)}** on "
                            f"{fmt_datetime(preview.uploaded_at, utc=True)}. Deleting it removes the "
                            f"**{preview.rows_stored:,}** row(s) it still has stored "
                            f"({preview.rows_uploaded:,} were uploaded).{covers}")
                if not preview.deletable:
                    st.error(md(preview.blocked_message))
                replaced = int(history.set_index("id").loc[preview.batch_id, "replaced_rows"] or 0) \
                    if preview.batch_id in set(history["id"]) else 0
                if replaced:  # deleting a re-upload leaves a gap: the rows it replaced are gone for good
                    period = (f"{preview.range_start:%Y-%m-%d} – {preview.range_end:%Y-%m-%d}"
                              if preview.range_start is not None and preview.range_end is not None else "its period")
                    st.warning(f"When it was stored, this batch replaced {replaced:,} older row(s) ('replace' policy). "
                               f"They are not restored: after deleting it, the {title} data has a gap for {period} "
                               "until that data is uploaded again.")
                confirmed = st.checkbox(
                    f"I understand that batch {preview.batch_id} and its {preview.rows_stored:,} row(s) will be "
                    "deleted permanently.", key=state.key(f"delete_confirm_{preview.batch_id}"),
                    disabled=not preview.deletable)
                if st.button(f"Delete batch {preview.batch_id}", type="primary", key=state.key("delete_go"),
                             disabled=not (confirmed and preview.deletable)):
                    try:
                        deleted = data_service.delete_batch(app, actor, preview.batch_id)
                    except (ServiceError, PermissionDenied) as exc:
                        st.error(md(exc))
                    else:
                        st.session_state[state.key("delete_flash")] = (
                            f"Deleted batch {deleted.batch_id} ({deleted.file_name}): "
                            f"{deleted.rows_deleted:,} row(s) removed.")
                        st.session_state.pop(state.key("delete_batch"), None)
                        st.rerun()

with samples_tab:
    st.write("Example files in each supported format. Download one, open it, and upload it to see the flow.")
    for path in data_service.sample_files():
        k = data_service.sample_kind(path)
        c1, c2 = st.columns([3, 1])
        c1.markdown(f"{md(path.name)} — {KINDS[k].title if k else 'sample'}")
        mime = "text/csv" if path.suffix == ".csv" else \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        c2.download_button("Download", path.read_bytes(), file_name=path.name, mime=mime, on_click="ignore",
                           key=state.key("sample_" + hashlib.sha1(path.name.encode()).hexdigest()[:8]))
