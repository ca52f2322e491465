"""People commands: ``assign`` (file based, no database) and ``train-ranker`` (stored history).

``python -m src.cli train-ranker [--json] [--no-activate]`` trains the success model on the stored
assignment history, saves it as a new ranker version (active unless ``--no-activate``) and prints the
test metrics side by side with the rule-based scorer. Exit codes: 0 trained, 2 not enough data.

``python -m src.cli assign --tasks TASKS.csv --staff STAFF.csv [--scores SCORES.csv]
--method greedy|balanced|optimal --output OUT.csv [--json]``

- ``--scores`` (``task_id,staff_id,score``): use exactly these scores; unlisted pairs are not allowed.
- without ``--scores`` the pairs are scored as on the Assignment page: by the active ranker (or the one in
  ``--model-dir``: ``model.txt`` + ``metadata.json``, checked like a stored version) with the stored
  scorer settings (ML on/off, shadow mode, confidence threshold), or by the rules; as of now in
  ``APP_TIMEZONE``; with the stored assignment history for the features unless ``--history`` names a
  file. The output says which scorer decided (model, rules or both) and why.
- output CSV: ``task_id,staff_id,score,method,reason`` (unassigned tasks: empty staff_id + reason).
- ``--json`` prints the summary (total score, assigned, unassigned, violations, spread, seconds).
Exit codes: 0 success, 2 invalid input.

``python -m src.cli candidates PREVIEW_ID [--task TASK_ID ...] [--top 5] [--json]`` prints every candidate of
tasks of a stored preview with score and explanation (the REST endpoint
``/api/v1/assignments/preview/{id}/tasks/{task_id}/candidates`` as JSON). Exit codes: 0 ok, 2 unknown preview/task.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from src.data.export import to_csv_bytes
from src.models.assignment import METHODS, AssignmentConfig, assign
from src.settings import ConfigError

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``assign`` and ``train-ranker`` commands."""
    t = subparsers.add_parser("train-ranker", help="train the ranking model on the stored assignment history",
                              description="Train the success model on the stored history and print its metrics "
                                          "next to the rule-based scorer (same held-out, newest tasks).")
    t.add_argument("--json", action="store_true", help="print the metrics as JSON")
    t.add_argument("--no-activate", action="store_true", help="save the new version without making it active")
    t.set_defaults(func=run_train_ranker)
    p = subparsers.add_parser("assign", help="assign open tasks to staff from CSV files",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", required=True, type=Path, help="open tasks CSV")
    p.add_argument("--staff", required=True, type=Path, help="available staff CSV")
    p.add_argument("--scores", type=Path, help="CSV task_id,staff_id,score (allow-list of pairs)")
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--output", required=True, type=Path, help="where to write the assignment CSV")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--history", type=Path, help="assignment history CSV used for features (optional)")
    p.add_argument("--model-dir", type=Path, help="saved ranker directory (model.txt + metadata.json)")
    p.add_argument("--fairness-weight", type=float, default=0.0, help="optimal: per-unit load cost (default 0)")
    p.add_argument("--balance-weight", type=float, default=0.5, help="balanced: utilisation penalty (default 0.5)")
    p.add_argument("--no-site-required", action="store_true", help="let tasks go to staff of other sites")
    p.add_argument("--time-limit", type=float, default=30.0, help="optimal with hour limits: seconds (default 30)")
    p.set_defaults(func=run_assign)
    c = subparsers.add_parser("candidates", help="every candidate's score and explanation for tasks of a preview",
                              description="Every candidate for each task of a stored assignment preview (made on "
                                          "the Assignment page or through the REST API): rank, score, scorer and "
                                          "why, rule factors and model contributions, whether they can still take "
                                          "it; and who is excluded, with the reason. Exit codes: 0 ok, 2 unknown "
                                          "preview or task.")
    c.add_argument("preview_id", type=int, help="preview id")
    c.add_argument("--task", action="append", dest="tasks", metavar="TASK_ID",
                   help="only this task (repeatable; default: every task of the preview)")
    c.add_argument("--top", type=int, default=5, help="text output: candidates shown per task (default 5)")
    c.add_argument("--json", action="store_true", help="print the full document as JSON (as the REST API)")
    c.set_defaults(func=run_candidates)


def _read(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"{what} file not found: {path}")
    df = pd.read_csv(path, dtype={"task_id": str, "staff_id": str}, keep_default_na=True)
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def run_assign(args: argparse.Namespace) -> int:
    """Run one assignment method on files; returns the exit code."""
    try:
        tasks = _read(args.tasks, "tasks")
        staff = _read(args.staff, "staff")
        config = AssignmentConfig(method=args.method, site_required=not args.no_site_required,
                                  balance_weight=args.balance_weight, fairness_weight=args.fairness_weight,
                                  time_limit_s=args.time_limit)
        info: dict[str, object] = {}
        if args.scores is not None:
            scores = _read(args.scores, "scores")
            scorer = "file"
        else:
            scores, scorer, info = _score(tasks, staff, args, config)
        result = assign(tasks, staff, scores, config)
    except (ValueError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = result.assignments.copy()
    out["score"] = out["score"].round(6)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(to_csv_bytes(out))  # ids from the input files may be formulas: neutralised
    summary = {**result.summary(), "scorer": scorer, **info, "output": str(args.output)}
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(f"{result.method}: assigned {result.n_assigned}, unassigned {result.n_unassigned}, "
              f"total score {result.total_score:.3f}, violations {result.violations}, {result.seconds:.2f}s "
              f"-> {args.output}")
        if info:
            from src.services.people import DECISION_LABELS

            counts = ", ".join(f"{DECISION_LABELS.get(k, k)}: {v}" for k, v in info["decisions"].items())  # type: ignore[union-attr]
            print(f"scored by: {scorer} — {info['model_status']}; tasks decided by {counts}; "
                  f"as of {info['scored_as_of']}")
        else:
            print("scored by: file (--scores)")
    return 0


def _score(tasks: pd.DataFrame, staff: pd.DataFrame, args: argparse.Namespace,
           config: AssignmentConfig) -> tuple[pd.DataFrame, str, dict[str, object]]:
    """Score as the app does (people.score_files): active ranker or --model-dir, stored settings, app clock."""
    from src.services import people as people_service
    from src.services.context import SYSTEM, get_app

    history = _read(args.history, "history") if args.history else None
    out = people_service.score_files(get_app(), SYSTEM, tasks, staff, history=history, model_dir=args.model_dir,
                                     site_required=config.site_required, use_hours=config.use_hours)
    s = out.settings
    info: dict[str, object] = {
        "model_status": out.model_status, "decisions": out.decisions,
        "settings": {"ml_enabled": s.ml_enabled, "ranking_enabled": s.ranking_enabled,
                     "shadow_mode": s.shadow_mode, "confidence_threshold": s.confidence_threshold},
        "scored_as_of": out.scored_as_of.isoformat(), "history_rows": out.history_rows}
    return out.table, out.scorer, info


def run_candidates(args: argparse.Namespace) -> int:
    """Print the candidates of tasks of a stored preview (as the system user); returns the exit code."""
    from src.services import people as people_service
    from src.services.context import SYSTEM, get_app

    try:
        docs = people_service.task_candidates(get_app(), SYSTEM, args.preview_id, args.tasks)
    except (ValueError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{"preview_id": args.preview_id, **d} for d in docs], indent=2, ensure_ascii=False))
        return 0
    for d in docs:
        who = d["staff_id"] or "nobody"
        print(f"task {d['task_id']} ({d['task_type']}, {d['site'] or 'any site'}, due {d['due']}, {d['hours']:g} h): "
              f"preview gives it to {who} [{d['decision']}]")
        for c in d["candidates"][:max(args.top, 0)]:
            factors = ", ".join(f"{f['factor']} {f['contribution']:+.3f}" for f in c["rules"]
                                if f.get("contribution") is not None)
            model = f" model {c['model_score']:.3f}" if c["model_score"] is not None else ""
            print(f"  {c['rank']:>3}. {c['staff_id']} {c['name'] or ''}: score {c['score']:.3f} ({c['scorer']}, "
                  f"{c['reason']}){model}; {'can take it' if c['can_take'] else 'over a limit'}"
                  f"{' <- chosen' if c['chosen'] else ''}; rules: {factors}")
        more = len(d["candidates"]) - max(args.top, 0)
        print(f"  ({len(d['candidates'])} candidates{f', {more} more with --top' if more > 0 else ''}; "
              f"{len(d['excluded'])} excluded)")
    return 0


def run_train_ranker(args: argparse.Namespace) -> int:
    """Train on the stored history (as the system user); returns the exit code."""
    from src.services import people as people_service
    from src.services.context import SYSTEM, ServiceError, get_app

    def progress(fraction: float, text: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {text}", file=sys.stderr)

    try:
        out = people_service.train_ranker(get_app(), SYSTEM, activate=not args.no_activate, on_progress=progress)
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    comp = out.comparison.copy()
    if args.json:
        doc = {"version": out.version.version, "active": out.version.active, "kind": out.version.kind,
               "seconds": round(out.seconds, 2), "split": out.split,
               "metrics": json.loads(comp.to_json(orient="records"))}
        print(json.dumps(doc, indent=2, default=str))
        return 0
    cols = ["scorer", "chosen", "n", "auc", "log_loss", "brier", "precision_at_3", "ndcg_at_3",
            "random_precision_at_3"]
    print(f"ranker {out.version.version} ({out.version.kind}){' active' if out.version.active else ''}, "
          f"trained in {out.seconds:.1f}s on {out.split['train_rows']} rows; "
          f"test: {out.split['test_rows']} newest rows from {out.split['test_start']}")
    print(comp[[c for c in cols if c in comp.columns]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0
