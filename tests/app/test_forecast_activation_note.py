"""The Forecast training form says that a series' first model version becomes active even with "Make the new model
version active" unticked (issue #13, point 1) — and that is what training does."""

from __future__ import annotations

from src.services import forecasting as svc
from tests.app.conftest import logged_in
from tests.conftest import ADMIN
from tests.unit.test_forecast_service import CALLS, load_history


def _page(role: str, user: str):
    at = logged_in(user, role).run()
    at.switch_page("pages/forecast.py").run()
    assert not at.exception, at.exception
    return at


def test_training_form_says_a_first_version_always_becomes_active(ui_app):
    load_history(ui_app)
    admin = _page("admin", "admin")
    box = next(c for c in admin.checkbox if c.label.startswith("Make the new model version active"))
    assert "first version always becomes active, ticked or not" in box.help
    planner = _page("planner", "pat")
    assert not [c for c in planner.checkbox if c.label.startswith("Make the new model version active")]
    assert any("first version becomes its active model" in c.value for c in planner.caption)

    # what the note says: unticked (activate=None), the first version is active; the second is not
    first = svc.train_forecasts(ui_app, ADMIN, [CALLS], horizon_days=2, model="seasonal_naive", folds=1)
    second = svc.train_forecasts(ui_app, ADMIN, [CALLS], horizon_days=2, model="seasonal_naive", folds=1)
    assert first.runs[0].activated and not second.runs[0].activated
