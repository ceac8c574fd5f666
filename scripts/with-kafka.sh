#!/usr/bin/env bash
# with-kafka.sh CMD...: run CMD with a real Kafka broker up (scripts/kafka.sh)
# and SURGE_KAFKA_BROKERS naming it. A broker this script started is stopped
# when CMD ends; one that was already running is left running.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
started=0
if ! "$here/kafka.sh" status >/dev/null 2>&1; then
	started=1
fi
brokers=$("$here/kafka.sh" up | tail -1)
stop() { if ((started)); then "$here/kafka.sh" down >/dev/null 2>&1 || true; fi; }
trap stop EXIT
SURGE_KAFKA_BROKERS=$brokers "$@"
