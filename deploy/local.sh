#!/usr/bin/env bash
# Runs one Headroom command for the Procfile as its own user of
# deploy/nats.conf (served by deploy/local.conf):
#
#   deploy/local.sh ./services/<name> [flags]           the service, as user <name>
#   deploy/local.sh ./services/headroom provision [flags]   provisioning, as user provision
#
# The user's password comes from <USER>_PASSWORD (the Procfile runners read
# .env; docker-compose.yml's header shows how to write one). It is handed to
# the command in its environment (HEADROOM_NATS_PASSWORD), not on its command
# line, where other local users could read it. HEADROOM_NATS_URL defaults to
# the Procfile's server, nats://127.0.0.1:4222.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: deploy/local.sh ./services/<name> [flags]" >&2
  exit 2
fi
pkg=$1
shift
user=$(basename "$pkg")
if [ "$user" = headroom ]; then
  if [ "${1:-}" != provision ]; then
    echo "deploy/local.sh: ./services/headroom runs here only as 'provision' (the all-in-one needs no NATS of its own)" >&2
    exit 2
  fi
  user=provision
fi
var="$(echo "$user" | tr '[:lower:]' '[:upper:]')_PASSWORD"
password="${!var:-}"
if [ -z "$password" ]; then
  echo "deploy/local.sh: $var is not set: write .env with a password for each user of deploy/nats.conf, as docker-compose.yml's header shows" >&2
  exit 1
fi
export HEADROOM_NATS_URL="${HEADROOM_NATS_URL:-nats://127.0.0.1:4222}"
export HEADROOM_NATS_USER="$user" HEADROOM_NATS_PASSWORD="$password" HEADROOM_NATS_INBOX_PREFIX="_INBOX_$user"
exec go run "$pkg" "$@"
