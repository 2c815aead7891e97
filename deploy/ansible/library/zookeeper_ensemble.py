#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Asks every member of a ZooKeeper ensemble `srvr` (and the leader `mntr`): is it whole?"""

DOCUMENTATION = r"""
module: zookeeper_ensemble
short_description: Report whether a ZooKeeper ensemble has every member in its quorum
description:
  - Sends the four-letter word C(srvr) to every member and C(mntr) to the leader (both must be
    in C(4lw.commands.whitelist)). The ensemble is I(healthy) when every member answers as
    C(leader) or C(follower) (C(standalone) for a single server), there is exactly one leader,
    and the leader counts every other member as a synced follower.
  - Never changes anything; use it with C(until) as a health gate.
options:
  servers:
    description: Every member, as C(host:port) of its client port.
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait for each member's answer.
    type: float
    default: 2.0
"""

RETURN = r"""
healthy: {description: every member is in the quorum, type: bool}
leader: {description: the leader's host:port, or null, type: str}
members: {description: "per member: server, mode (or null), error", type: list}
synced_followers: {description: the leader's zk_synced_followers, type: int}
summary: {description: one line saying what was seen, type: str}
"""

import socket

from ansible.module_utils.basic import AnsibleModule


def four_letter_word(server, word, timeout):
    """Sends `word` to host:port and returns everything the server answers before closing."""
    host, _, port = server.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(word.encode("ascii"))
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def field(text, prefix):
    """The value of the first line of `text` starting with `prefix`, or None."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return None


def inspect(servers, timeout):
    """What every member says about itself, and the leader's count of synced followers."""
    members = []
    for server in servers:
        try:
            answer = four_letter_word(server, "srvr", timeout)
            mode = field(answer, "Mode:")
            error = None if mode else "answered without a mode: %r" % answer[:200]
        except (OSError, ValueError) as exc:
            mode, error = None, str(exc)
        members.append({"server": server, "mode": mode, "error": error})
    leaders = [m["server"] for m in members if m["mode"] in ("leader", "standalone")]
    synced = None
    if len(leaders) == 1 and len(servers) > 1:
        try:
            value = field(four_letter_word(leaders[0], "mntr", timeout), "zk_synced_followers")
            synced = int(value.split()[-1]) if value else None
        except (OSError, ValueError):
            synced = None
    return members, leaders, synced


def main():
    module = AnsibleModule(
        argument_spec=dict(
            servers=dict(type="list", elements="str", required=True),
            timeout=dict(type="float", default=2.0),
        ),
        supports_check_mode=True,
    )
    servers = module.params["servers"]
    members, leaders, synced = inspect(servers, module.params["timeout"])
    expected = "standalone" if len(servers) == 1 else ("leader", "follower")
    all_in = all(m["mode"] in expected for m in members)
    whole = len(servers) == 1 or synced == len(servers) - 1
    healthy = all_in and len(leaders) == 1 and whole
    summary = ", ".join("%s %s" % (m["server"], m["mode"] or "down (%s)" % m["error"]) for m in members)
    if len(servers) > 1:
        summary += "; leader counts %s synced followers of %d" % (synced, len(servers) - 1)
    module.exit_json(
        changed=False,
        healthy=healthy,
        leader=leaders[0] if len(leaders) == 1 else None,
        members=members,
        synced_followers=synced,
        summary=summary,
    )


if __name__ == "__main__":
    main()
