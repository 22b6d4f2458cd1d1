"""Threshold choice on the validation batches: the decision it measures is the pipeline's."""

from __future__ import annotations

import numpy as np

from monitor.pipeline.classifier.corpus import HEADS, Example
from monitor.pipeline.classifier.evaluate import Scores, actionable, choose, prf


def _scores(category: str, rows: list[tuple[str, int, float]]) -> Scores:
    examples = [Example(id=str(i), text=t, labels={category: y}) for i, (t, y, _) in enumerate(rows)]
    probs = np.zeros((len(rows), len(HEADS)))
    probs[:, HEADS.index(category)] = [p for _, _, p in rows]
    return Scores(examples, probs)


def test_a_flat_stretch_of_f1_keeps_the_most_confident_threshold() -> None:
    rows = [(f"results leak {i}", 1, 0.96) for i in range(10)] + \
           [(f"lunch {i}", 0, 0.03) for i in range(30)]
    t = choose(_scores("financial", rows))
    # every threshold between 0.03 and 0.96 separates the two perfectly; the highest is kept
    assert 0.9 <= t.nudge["financial"] <= 0.96


def test_talk_about_passwords_is_not_a_credentials_flag_however_sure_the_model_is() -> None:
    rows = [("the password is in the team vault, ask Ines", 0, 0.99),
            ("wifi password is Kq7!mZ2pLx9w for the guests", 1, 0.99)]
    scores = _scores("credentials", rows)
    t = choose(scores)
    t.nudge["credentials"] = 0.5
    flagged = actionable(scores, t)["credentials"]
    assert flagged.tolist() == [False, True]
    assert prf(scores.labels("credentials"), flagged)["precision"] == 1.0
