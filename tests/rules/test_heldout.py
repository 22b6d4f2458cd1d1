"""Measured on the team's held-back set (data/secrets-heldout/, not the rule examples).

Targets: credentials recall >= 0.97 with <= 2 % of hard negatives flagged; pii recall >= 0.97
with <= 1 % of negatives flagged. The figures and every miss print with
``python -m bench.eval_heldout``.
"""

from __future__ import annotations

import pytest

from bench.eval_heldout import evaluate, heldout_engine, report


@pytest.fixture(scope="module")
def heldout():
    return heldout_engine()


def test_set_is_big_enough() -> None:
    from bench.eval_heldout import _rows

    assert len(_rows("credentials_positive")) >= 500
    assert len(_rows("credentials_hard_negative")) >= 500
    assert len(_rows("pii_positive")) >= 500
    assert len(_rows("pii_negative")) >= 1000


def test_set_is_the_generator_output() -> None:
    """The committed files are what bench/heldout_secrets.py writes (nobody edited a case)."""
    import json

    from bench.eval_heldout import _rows
    from bench.heldout_secrets import build

    for name, rows in build().items():
        want = [json.loads(json.dumps({"id": f"{name}-{i}", **r}, ensure_ascii=False))
                for i, r in enumerate(rows)]
        assert _rows(name) == want, name


def test_credentials_recall_and_hard_negatives(heldout) -> None:
    fig = evaluate(heldout, "credentials")
    assert fig.recall >= 0.97 and fig.false_flag_rate <= 0.02, report(fig)


def test_pii_recall_and_false_flags(heldout) -> None:
    fig = evaluate(heldout, "pii")
    assert fig.recall >= 0.97 and fig.false_flag_rate <= 0.01, report(fig)
