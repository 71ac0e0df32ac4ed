#!/usr/bin/env bash
# The live-room benchmark: one room with 500 open event streams (half
# guests, half members), the time from a moderator's action (a chat
# message) to the last stream receiving it, p50 and p99, and the server's
# memory per open stream; on SQLite and, when LOAD_DATABASE_URL is given,
# on PostgreSQL (examples/load_room.rs).
#
#   scripts/room-bench.sh                      # SQLite, 500 streams, 60 actions
#   LOAD_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guestlink_rooms?sslmode=disable \
#     scripts/room-bench.sh --streams 500     # SQLite, then PostgreSQL
#
# Arguments go to the example (--streams, --actions). The server and the
# client are not pinned (LOAD_PIN=0 by default here): the streams' reader
# and the server share the machine's cores, as the hot-path benchmark does.
# The environment is that of scripts/load-guest.sh (LOAD_BIN_DIR,
# LOAD_BACKENDS, LOAD_WORKERS, LOAD_SERVER_ENV, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

export LOAD_PIN="${LOAD_PIN:-0}"
load_example=load_room
# One address and one moderator make the whole load.
load_server_env=(GUESTLINK_GUEST_RATE_LIMIT=0 GUESTLINK_CHAT_RATE_LIMIT=0)
# shellcheck source=scripts/lib/load-common.sh
source scripts/lib/load-common.sh
