"""Chat-UI sessions in the runtime database, on both engines, with two stores on one database standing for two
replicas: random ids of which only the digest is kept, TTL and idle time, tabs bound to their session and
capped, and per-client quotas so that no client can end another's session (issue 20, point 4)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from assistant.storage import Database
from assistant.web.sessions import SessionsFull, SessionStore, owner_of


def _store(database: Database, now: list[float], **kwargs) -> SessionStore:
    options = {
        "ttl_seconds": 100,
        "idle_seconds": 30,
        "max_sessions": 50,
        "max_tabs": 2,
        "per_key": 5,
        "per_address": 3,
    } | kwargs
    return SessionStore(database, clock=lambda: now[0], **options)


@pytest.fixture
def replicas(database):
    """Two stores on one database, as two replicas have, sharing one clock."""
    now = [1_000_000.0]
    other = Database(database.url)
    yield now, _store(database, now), _store(other, now)
    other.dispose()


def test_session_ids_are_random_server_made_and_only_their_digest_is_kept(replicas):
    _, store, _ = replicas
    first, second = store.open("a", "key:a", True), store.open("-", "ip:1.2.3.4", False)
    assert first != second and len(first) >= 43
    session = store.get(first)
    assert session is not None and session.label == "a" and session.keyed and session.digest != first
    with store.database.begin() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM ui_sessions")) for v in row)
    assert first not in stored and second not in stored and session.digest in stored
    assert store.get("made-up-by-a-client") is None and store.get(None) is None
    assert store.close(second) and store.get(second) is None and not store.close(second)


def test_a_session_opened_on_one_replica_works_on_the_other_and_ends_on_both(replicas):
    _, a, b = replicas
    session_id = a.open("helpdesk", "key:helpdesk", True)
    on_b = b.get(session_id)
    assert on_b is not None and on_b.bucket == "key:helpdesk"
    # The tab id is the same on both replicas (the secret is shared through the database) …
    tab = a.tab(a.get(session_id), "browserhash1")
    assert b.tab(on_b, "browserhash1") == tab
    assert a.missing([tab, "not-a-tab"]) == ["not-a-tab"]
    # … and a logout on one replica ends it on the other, whose Gradio state for it is swept.
    assert b.close(session_id)
    assert a.get(session_id) is None and a.missing([tab]) == [tab]


def test_sessions_end_after_idle_time_and_ttl_on_every_replica(replicas):
    now, a, b = replicas
    dropped: list[str] = []
    a.on_tabs_dropped = dropped.extend
    idle = a.open("-", "ip:10.0.0.1", False)
    tab = a.tab(a.get(idle), "browserhash1")
    now[0] += 31
    assert b.get(idle) is None  # idle too long, whichever replica looks
    assert a.get(idle) is None and a.missing([tab]) == [tab]

    busy = a.open("-", "ip:10.0.0.2", False)
    start = now[0]
    for t in range(0, 100, 20):
        now[0] = start + t
        assert (a if t % 40 else b).get(busy) is not None  # used every 20 s, on either replica
    now[0] = start + 101
    assert a.get(busy) is None  # but the TTL ends it


def test_tab_ids_are_bound_to_the_session_and_capped_per_session(replicas):
    now, store, _ = replicas
    dropped: list[str] = []
    store.on_tabs_dropped = dropped.extend
    a = store.get(store.open("a", "key:a", True))
    b = store.get(store.open("b", "key:b", True))
    # The same browser hash in two sessions gives two unrelated tab ids: knowing one reaches nothing.
    assert store.tab(a, "h1") != store.tab(b, "h1")
    assert store.tab(a, "h1") == store.tab(a, "h1") and "h1" not in store.tab(a, "h1")
    first = store.tab(a, "h1")
    now[0] += 1
    second = store.tab(a, "h2")
    now[0] += 1
    third = store.tab(a, "h3")  # a third tab pushes out the least recently used one
    assert dropped == [first]
    assert sorted(store.missing([first, second, third])) == [first]


def test_a_key_holder_logging_in_again_and_again_ends_only_its_own_sessions(replicas):
    """Issue 20: 205 logins with one's own key ended every other user's session (a global LRU). Now the
    key's own least recently used session goes, on whichever replica the logins land."""
    now, a, b = replicas
    others = [a.open(f"user{i}", f"key:user{i}", True) for i in range(3)]
    anonymous = a.open("-", "ip:192.0.2.7", False)
    attacker: list[str] = []
    for i in range(205):
        now[0] += 0.01
        attacker.append((a if i % 2 else b).open("attacker", "key:attacker", True))
    assert all(a.get(s) is not None for s in [*others, anonymous])
    alive = [s for s in attacker if b.get(s) is not None]
    assert alive == attacker[-5:]  # its quota (per_key=5): the newest five


def test_anonymous_sessions_have_a_quota_per_address_and_an_ipv6_64_counts_as_one(replicas):
    now, store, _ = replicas
    mine = [store.open("-", "ip:198.51.100.1", False) for _ in range(3)]
    neighbour = store.open("-", "ip:198.51.100.2", False)
    now[0] += 1
    store.open("-", "ip:198.51.100.1", False)  # a fourth from the same address: its own oldest ends
    assert store.get(mine[0]) is None and store.get(mine[1]) is not None
    assert store.get(neighbour) is not None
    v6 = [store.open("-", f"ip:2001:db8:1:2::{i:x}", False) for i in range(1, 6)]
    assert [store.get(s) is not None for s in v6] == [False, False, True, True, True]
    assert owner_of("ip:2001:db8:1:2::ff", False) == "net:2001:db8:1:2::/64"
    assert owner_of("ip:198.51.100.1", False) == "ip:198.51.100.1"
    assert owner_of("key:helpdesk", True) == "key:helpdesk"


def test_when_every_session_is_taken_a_new_one_is_refused_and_nobody_is_ended(database):
    """In no-keys mode 205 page loads from 205 addresses ended every other session; now the global cap
    refuses the newcomers and every open session stays."""
    now = [1_000_000.0]
    store = _store(database, now, max_sessions=20)
    first = [store.open("-", f"ip:203.0.113.{i}", False) for i in range(20)]
    refused = 0
    for i in range(20, 205):
        try:
            store.open("-", f"ip:203.0.113.{i % 250}", False)
        except SessionsFull:
            refused += 1
    assert refused == 185 and all(store.get(s) is not None for s in first)
    now[0] += 31  # once sessions end (idle), new ones are possible again
    assert store.open("-", "ip:203.0.113.99", False)


def test_quotas_hold_when_replicas_open_sessions_at_once(replicas):
    """Eight threads on two replicas open sessions for one key at the same moment: the key still holds at
    most its quota, and the sessions it holds are real ones."""
    _, a, b = replicas
    opened: list[str] = []
    lock = threading.Lock()

    def login(store: SessionStore) -> None:
        for _ in range(5):
            session_id = store.open("team", "key:team", True)
            with lock:
                opened.append(session_id)

    threads = [threading.Thread(target=login, args=(a if n % 2 else b,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with a.database.begin() as conn:
        held = conn.execute(text("SELECT count(*) FROM ui_sessions WHERE owner = 'key:team'")).scalar_one()
    assert len(opened) == 40 and held == 5
    assert sum(a.get(s) is not None for s in opened) == 5
