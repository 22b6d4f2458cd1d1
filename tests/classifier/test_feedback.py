"""Reviewer and employee verdicts become labels for the next training run."""

from __future__ import annotations

from monitor.pipeline.classifier.data import Labelled, Verdict, load_feedback
from monitor.pipeline.classifier.recipe import feedback_examples
from monitor.store import Store
from monitor.store.feedback import labelled_verdicts
from tests.factories import store_with_feedback


def _feedback(store: Store, categories: list[str]) -> dict[str, Labelled]:
    with store.session() as s:
        return load_feedback([Verdict(*row) for row in labelled_verdicts(s)], categories)


def test_feedback_labels_come_from_the_store(tmp_db_url: str) -> None:
    store_with_feedback(tmp_db_url)
    store = Store(tmp_db_url)
    try:
        fb = _feedback(store, ["offensive", "hate"])
    finally:
        store.dispose()
    assert sorted(zip(fb["offensive"].texts, fb["offensive"].labels, strict=True)) == [
        ("nice goal tonight", 0), ("you are a worthless clown", 1)]
    assert len(fb["hate"]) == 0


def test_a_verdict_labels_only_its_own_category(tmp_db_url: str) -> None:
    store_with_feedback(tmp_db_url)
    store = Store(tmp_db_url)
    try:
        examples = feedback_examples(_feedback(store, ["offensive", "pii"]))
    finally:
        store.dispose()
    assert len(examples) == 2
    for ex in examples:
        assert ex.labels["offensive"] in (0, 1)
        assert all(v is None for k, v in ex.labels.items() if k != "offensive")
