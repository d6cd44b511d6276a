"""Who this daemon process is, uniquely: what it writes into the work it claims.

``[kefu] node_name`` is a label for people (``kefu outbox list``, logs) and is the
host name by default, so two daemons on one host — two units, two containers with
one hostname, a restart that overlaps the old process — share it. A claim must
name the process instead: the host, the kernel's boot id, the PID namespace, the
pid and a random part. The random part alone makes two live processes differ; the
rest lets a daemon recognise a claimant that provably died (same kernel and PID
namespace, and no such pid any more) and take its claims over at once rather than
when the claim's lease expires.

The token reads ``label@host/boot/pidns/pid/random``; the label comes first for
people and may hold anything, so the token is parsed from the right.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

UNKNOWN = "-"
LABEL_MAX = 64  # the token must fit the claim columns whatever the label is


@dataclass(frozen=True)
class Identity:
    """One process of one daemon; ``token`` is what its claims carry."""

    label: str
    host: str
    boot: str
    pidns: str
    pid: int
    nonce: str

    @property
    def token(self) -> str:
        """``label@host/boot/pidns/pid/random``."""
        return f"{self.label[:LABEL_MAX]}@{self.host}/{self.boot}/{self.pidns}/{self.pid}/{self.nonce}"

    def same_kernel_and_pids(self, other: Identity) -> bool:
        """True when ``other``'s pid means the same process table as ours (boot and namespace known)."""
        return UNKNOWN not in (self.boot, self.pidns) and (self.boot, self.pidns) == (
            other.boot,
            other.pidns,
        )


def parse(token: str) -> Identity | None:
    """The identity a claim token names, or None for a token of another form (an older kefu)."""
    head, sep, rest = token.rpartition("@")
    parts = rest.split("/")
    if not sep or len(parts) != 5 or not parts[3].isdigit():
        return None
    host, boot, pidns, pid, nonce = parts
    return Identity(label=head, host=host, boot=boot, pidns=pidns, pid=int(pid), nonce=nonce)


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "") or UNKNOWN
    except OSError:
        return UNKNOWN


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return UNKNOWN


_CURRENT: dict[tuple[int, str], Identity] = {}
_NONCE: dict[int, str] = {}


def current(label: str) -> Identity:
    """This process's identity under ``label`` (a fork is a new process, with a new identity).

    The random part belongs to the process: apps of one process under other labels
    (tests) are told apart by the label, never taken for an earlier process.
    """
    pid = os.getpid()
    found = _CURRENT.get((pid, label))
    if found is None:
        host = socket.gethostname().replace("/", "_").replace("@", "_") or UNKNOWN
        nonce = _NONCE.setdefault(pid, secrets.token_hex(4))
        found = Identity(label=label, host=host, boot=_boot_id(), pidns=_pid_namespace(), pid=pid, nonce=nonce)
        _CURRENT[(pid, label)] = found
    return found


def pid_exists(pid: int) -> bool:
    """True if a process ``pid`` exists in our PID namespace (ours to signal or not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def provably_dead(token: str, me: Identity) -> bool:
    """True only when ``token`` names another process of this kernel and PID namespace that is gone.

    A process elsewhere (another host, container or boot), or of an unknown form,
    is never called dead: its claims wait for their lease to expire. A reused pid
    only makes a dead claimant look alive, which is the safe mistake.
    """
    other = parse(token)
    if other is None or other.token == me.token or not me.same_kernel_and_pids(other):
        return False
    if other.pid == me.pid:
        return other.nonce != me.nonce  # another random part: an earlier process that had our pid
    return not pid_exists(other.pid)
