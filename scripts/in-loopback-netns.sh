#!/usr/bin/env bash
# Runs a command inside a fresh network namespace that holds only a loopback interface, so that
# nothing it sends (multicast included) can leave this machine. Needs root (CI and dev machines are).
# Usage: scripts/in-loopback-netns.sh COMMAND [ARGS...]
set -euo pipefail
ns="meshcast-$$-$RANDOM"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" link set lo multicast on
ip -n "$ns" route add 224.0.0.0/4 dev lo
ip netns exec "$ns" "$@"
