"""Who holds the server's connection slots: at most ``max_total`` in all, ``max_per_client`` per client.

505 idle connections from one address used to take all 500 slots of the server, so every client — keyed
ones too — got 503 for as long as the attacker reconnected (issue 20). The ledger counts the connections
each client address holds; one beyond its share is not admitted (the protocol answers it 429 and closes
it), so one address can hold at most ``max_per_client`` of the ``max_total`` slots and the rest stay free
for everyone else. An IPv6 client is counted by its /64 network (one host usually owns a whole /64);
addresses of ``exempt`` networks (the trusted reverse proxies, which carry many clients and limit them
themselves) only count towards the total.

The ledger is used from the server's event loop only, so it needs no lock.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import time
from collections import Counter

log = logging.getLogger("assistant.web.connections")

#: Refusals are logged at most once per interval per kind, with the count they stand for.
LOG_EVERY_SECONDS = 10.0


class Admission(enum.Enum):
    ADMITTED = "admitted"
    CLIENT_FULL = "client_full"  # this client holds its share already: 429
    SERVER_FULL = "server_full"  # every slot is taken: 503


def client_key(address: str) -> str:
    """The unit a share is counted in: an IPv4 address, or an IPv6 address's /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # a Unix socket path or an unknown peer: counted as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class ConnectionLedger:
    """Counts admitted connections in all and per client key."""

    def __init__(self, max_total: int, max_per_client: int, exempt: list[str] | None = None) -> None:
        self.max_total, self.max_per_client = max_total, max_per_client
        self.exempt = [ipaddress.ip_network(n, strict=False) for n in exempt or []]
        self.total = 0
        self._per_client: Counter[str] = Counter()
        self._refused: dict[Admission, tuple[float, int]] = {}

    def _is_exempt(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.exempt)

    def held_by(self, address: str) -> int:
        return self._per_client[client_key(address)]

    def admit(self, address: str) -> Admission:
        """Take a slot for a new connection from ``address``, or say why not (the caller refuses it)."""
        key = client_key(address)
        exempt = self._is_exempt(address)
        if not exempt and self._per_client[key] >= self.max_per_client:
            return self._refuse(Admission.CLIENT_FULL)
        if self.total >= self.max_total:
            return self._refuse(Admission.SERVER_FULL)
        self.total += 1
        if not exempt:
            self._per_client[key] += 1
        return Admission.ADMITTED

    def release(self, address: str) -> None:
        """Give back the slot of an admitted connection that closed."""
        self.total = max(0, self.total - 1)
        key = client_key(address)
        if self._is_exempt(address) or key not in self._per_client:
            return
        self._per_client[key] -= 1
        if self._per_client[key] <= 0:
            del self._per_client[key]

    def _refuse(self, why: Admission) -> Admission:
        """One log line per kind of refusal per ``LOG_EVERY_SECONDS``, counting the ones in between: a
        flood of connections must not become a flood of log lines."""
        now = time.monotonic()
        since, count = self._refused.get(why, (0.0, 0))
        if since and now - since < LOG_EVERY_SECONDS:
            self._refused[why] = (since, count + 1)
            return why
        self._refused[why] = (now, 0)
        more = f" ({count} more since the last line)" if count else ""
        if why is Admission.CLIENT_FULL:
            log.warning("refused a connection: its client holds %d already%s", self.max_per_client, more)
        else:
            log.warning("refused a connection: all %d connection slots are taken%s", self.max_total, more)
        return why
