"""One post that a detector cannot handle costs its own result, never the batch's."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config import settings_from_dict
from monitor.domain import Finding, Post
from monitor.pipeline.core import Pipeline
from monitor.pipeline.factory import build_pipeline

KEY = "AKIAZ4QW7PL2XR5NB3TD"


class FailsOn:
    """A detector that fails on any batch holding a post with exactly this text."""

    name = "fails-on"

    def __init__(self, text: str) -> None:
        self.text = text

    def detect(self, posts: Sequence[Post]) -> list[list[Finding]]:
        if any(p.text == self.text for p in posts):
            raise RuntimeError(f"cannot handle {self.text}")
        return [[] for _ in posts]


def _pipeline(*extra: FailsOn) -> Pipeline:
    real = build_pipeline(settings_from_dict({"model": {"enabled": False}}))
    return Pipeline(detectors=[*real.detectors, *extra], decider=real.decider, batch_size=4)


def test_a_failing_post_gets_an_error_flag_and_the_others_are_analysed(caplog) -> None:
    pipe = _pipeline(FailsOn("secret boom text"))
    posts = [Post(id=str(i), text=f"key {KEY}" if i % 2 else "hello") for i in range(9)]
    posts[4] = Post(id="bad", text="secret boom text")
    flags = list(pipe.analyse_stream(posts))
    assert [f.post.id for f in flags] == [p.id for p in posts]
    bad = flags[4]
    assert bad.error == "post bad: analysis failed (RuntimeError)" and bad.findings == []
    assert [f.flagged for i, f in enumerate(flags) if i != 4] == [
        bool(i % 2) for i in range(9) if i != 4]
    assert all(f.error is None for i, f in enumerate(flags) if i != 4)
    assert "bad" in caplog.text and "secret boom text" not in caplog.text


def test_the_error_names_a_post_with_an_odd_id_on_one_line() -> None:
    (flag,) = _pipeline(FailsOn("x")).analyse([Post(id="a\nb", text="x")])
    assert flag.error == "post 'a\\nb': analysis failed (RuntimeError)"


def test_a_working_batch_has_no_errors() -> None:
    flags = _pipeline().analyse([Post(id="1", text="hello"), Post(id="2", text=KEY)])
    assert [f.error for f in flags] == [None, None]
