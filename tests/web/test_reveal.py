"""A reveal lasts for that reviewer, that flag and that sign-in, and is audited once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from monitor.config import Settings, settings_from_dict
from monitor.store import Store
from monitor.store.schema import AuditEventRow
from tests.web_support import World, build_world, client, csrf_of, sign_in


@pytest.fixture
def env(tmp_path) -> Iterator[tuple[Settings, Store, World]]:
    url = f"sqlite:///{tmp_path / 'sg.db'}"
    settings = settings_from_dict({"store": {"url": url}}, source="test")
    store = Store(url)
    yield settings, store, build_world(store)
    store.dispose()


def _reveals(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).where(AuditEventRow.action == "flag.reveal")))


def test_a_revealed_name_stays_shown_for_that_session_without_a_second_entry(env):
    settings, store, w = env
    mia = sign_in(client(settings, store), "mia")
    eve_flag, ed_flag = w.flags["eve"], w.flags["ed"]
    assert "Eve Example" not in mia.get(f"/flags/{eve_flag}").text
    token = csrf_of(mia, f"/flags/{eve_flag}")
    r = mia.post(f"/flags/{eve_flag}/reveal",
                 data={"reason": "coaching talk on Friday", "csrf_token": token})
    assert r.status_code == 200 and "Eve Example" in r.text
    again = mia.get(f"/flags/{eve_flag}").text
    assert "Eve Example" in again
    assert f'action="/flags/{eve_flag}/reveal"' not in again  # nothing left to ask for
    assert _reveals(store) == 1
    assert "Ed Deep" not in mia.get(f"/flags/{ed_flag}").text  # another flag stays pseudonymous


def test_a_reveal_ends_with_the_sign_in_and_belongs_to_its_reviewer(env):
    settings, store, w = env
    eve_flag = w.flags["eve"]
    mia = sign_in(client(settings, store), "mia")
    token = csrf_of(mia, f"/flags/{eve_flag}")
    mia.post(f"/flags/{eve_flag}/reveal",
             data={"reason": "coaching talk on Friday", "csrf_token": token})
    cora = sign_in(client(settings, store), "cora")
    assert "Eve Example" not in cora.get(f"/flags/{eve_flag}").text
    later = sign_in(client(settings, store), "mia")
    assert "Eve Example" not in later.get(f"/flags/{eve_flag}").text
