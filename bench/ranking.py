"""Benchmark: success model vs rules on held-out (time-later) assignment history.

Run: ``.venv/bin/python -m bench.ranking``. Uses the demo data generator (``src.data.demo``) and
prints a markdown table of AUC, log loss, Precision@3 and NDCG@3 for the LightGBM classifier, the
lambdarank challenger and the rule-based scorer on the same test rows, plus the ratio model ÷ rules
(baseline = rules). Ranking groups are task type × week (see ``src.models.ranking.evaluation``).
"""

from __future__ import annotations

import time

from bench.assignment import markdown_table
from src.data.demo import DemoConfig, generate_demo
from src.models.ranking import TrainConfig, train_ranker


def main() -> None:
    data = generate_demo(DemoConfig())
    t0 = time.perf_counter()
    result = train_ranker(data["assignments"], data["staff"], TrainConfig())
    seconds = time.perf_counter() - t0
    comp = result.comparison.copy()
    print(f"history rows: {len(data['assignments']):,}; split: {result.split}; training {seconds:.1f}s\n")
    print(markdown_table(comp))
    rules = comp.set_index("scorer").loc["rules"]
    print("\nRatio vs baseline (rules):")
    rows = []
    for _, r in comp[comp["scorer"] != "rules"].iterrows():
        rows.append({"scorer": r["scorer"], "auc": r["auc"] / rules["auc"],
                     "precision_at_3": r["precision_at_3"] / rules["precision_at_3"],
                     "ndcg_at_3": r["ndcg_at_3"] / rules["ndcg_at_3"],
                     "log_loss (lower is better)": r["log_loss"] / rules["log_loss"]})
    import pandas as pd

    print(markdown_table(pd.DataFrame(rows)))
    print("\nCalibration (chosen model, test rows):")
    print(markdown_table(result.calibration_curves[result.model.kind]))
    print("\nTop features by gain:")
    print(markdown_table(result.model.feature_importance().head(8), floatfmt=".0f"))


if __name__ == "__main__":
    main()
