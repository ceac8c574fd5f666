#!/usr/bin/env bash
# kafka.sh: a real Apache Kafka broker (KRaft, broker + controller in one
# process per node) on 127.0.0.1, for surge's integration tests and for trying
# a fleet run on one machine.
#
#   scripts/kafka.sh up [--brokers N]   start (idempotent); prints the bootstrap
#                                       address list (host:port,...) on stdout
#   scripts/kafka.sh down [--clean]     stop only the processes this script
#                                       started; --clean also removes their data
#   scripts/kafka.sh status             say what runs; exit 0 when up, 3 when not
#   scripts/kafka.sh restart            down then up with the same node count
#
# The jars come from Maven Central (scripts/kafka/pom.xml, org.apache.kafka
# kafka_2.13 + kafka-tools) into a cache outside the repo, once:
#   ${SURGE_KAFKA_CACHE:-~/.cache/surge/kafka-4.4.0}/libs
# Node N's data, config, log and pid file live in a state directory outside
# the repo:
#   ${SURGE_KAFKA_STATE:-~/.local/state/surge/kafka-$PORT}/node-N
# Node N's client port is SURGE_KAFKA_PORT (default 9092) + N - 1; its
# controller port is that + 100. Heap per node: SURGE_KAFKA_HEAP (512m).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=4.4.0
port=${SURGE_KAFKA_PORT:-9092}
heap=${SURGE_KAFKA_HEAP:-512m}
cache=${SURGE_KAFKA_CACHE:-$HOME/.cache/surge/kafka-$version}
state=${SURGE_KAFKA_STATE:-${XDG_STATE_HOME:-$HOME/.local/state}/surge/kafka-$port}
libs=$cache/libs
ready_timeout=${SURGE_KAFKA_READY_TIMEOUT:-90}

say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
	sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# fetch copies the broker's runtime jars into the cache, once. A half fetch
# never counts: the jars land in a temporary directory renamed into place.
fetch() {
	[[ -f $libs/.ok ]] && return 0
	command -v mvn >/dev/null || die "mvn not found: Maven fetches the Kafka jars from Maven Central"
	command -v java >/dev/null || die "java not found: the Kafka broker needs Java 17 or later"
	mkdir -p "$cache"
	local tmp
	tmp=$(mktemp -d "$cache/.libs.tmp-XXXXXX")
	say "fetching org.apache.kafka:kafka_2.13:$version from Maven Central into $libs"
	if ! mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$tmp" >&2; then
		rm -rf "$tmp"
		die "mvn could not fetch the Kafka jars (see above)"
	fi
	ls "$tmp"/kafka_2.13-"$version".jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "kafka_2.13-$version.jar missing after mvn"; }
	touch "$tmp/.ok"
	rm -rf "$libs"
	mv "$tmp" "$libs"
}

client_port() { echo $((port + $1 - 1)); }
controller_port() { echo $((port + $1 - 1 + 100)); }
node_dir() { echo "$state/node-$1"; }

# pid_of prints the pid of node N when it runs and is ours: the pid file's
# process must be a kafka.Kafka JVM started with this node's properties file
# (a recycled pid is not ours).
pid_of() {
	local dir pid
	dir=$(node_dir "$1")
	[[ -f $dir/pid ]] || return 1
	pid=$(<"$dir/pid")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $dir/server.properties" || return 1
	echo "$pid"
}

# nodes prints how many nodes the state directory was formatted for (0: none).
nodes() {
	[[ -f $state/nodes ]] && cat "$state/nodes" || echo 0
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bootstrap() {
	local n=$1 i list=""
	for ((i = 1; i <= n; i++)); do list+="${list:+,}127.0.0.1:$(client_port "$i")"; done
	echo "$list"
}

# configure writes node N's server.properties for a cluster of n nodes.
configure() {
	local i=$1 n=$2 dir voters="" j
	dir=$(node_dir "$i")
	for ((j = 1; j <= n; j++)); do voters+="${voters:+,}$j@127.0.0.1:$(controller_port "$j")"; done
	mkdir -p "$dir/data"
	local quorum
	if ((n == 1)); then
		# --standalone formatting wants the bootstrap servers, not static voters.
		quorum="controller.quorum.bootstrap.servers=127.0.0.1:$(controller_port 1)"
	else
		quorum="controller.quorum.voters=$voters"
	fi
	local rf=$((n < 3 ? n : 3)) isr=$((n < 3 ? 1 : 2))
	# A node killed (SIGKILL, a lost machine) keeps leading its partitions
	# until the controller fences it: broker.session.timeout.ms after its
	# last heartbeat (9 s by default). The fault tests kill nodes and wait
	# for that; 3 s keeps them short and still far above a loaded
	# machine's heartbeat jitter.
	local fence=""
	((n > 1)) && fence=$'broker.session.timeout.ms=3000\nbroker.heartbeat.interval.ms=500'

	cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh: node $i of $n, loopback only.
process.roles=broker,controller
node.id=$i
$quorum
listeners=PLAINTEXT://127.0.0.1:$(client_port "$i"),CONTROLLER://127.0.0.1:$(controller_port "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$i")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=12
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=24
log.segment.bytes=268435456
${fence}
EOF
	cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
EOF
}

java_cmd() { java -cp "$libs/*" "$@"; }

format() {
	local n=$1 i cluster
	cluster=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null) || die "StorageTool random-uuid failed"
	for ((i = 1; i <= n; i++)); do
		local dir
		dir=$(node_dir "$i")
		rm -rf "$dir/data"
		configure "$i" "$n"
		local extra=()
		((n == 1)) && extra=(--standalone)
		java_cmd kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" "${extra[@]}" \
			>"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "formatting $dir failed"; }
	done
	echo "$n" >"$state/nodes"
}

start_node() {
	local i=$1 dir
	dir=$(node_dir "$i")
	if pid_of "$i" >/dev/null; then return 0; fi
	if port_open "$(client_port "$i")"; then
		die "127.0.0.1:$(client_port "$i") is in use by a process this script did not start; set SURGE_KAFKA_PORT"
	fi
	# setsid: the broker outlives the shell that started it (make, a test).
	# 9>&-: it must not inherit (and so hold forever) the script's lock.
	setsid java -Xmx"$heap" -Xms"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
		-Dlog4j.configuration="file:$dir/log4j.properties" \
		-cp "$libs/*" kafka.Kafka "$dir/server.properties" \
		</dev/null >"$dir/stdout.log" 2>&1 9>&- &
	echo $! >"$dir/pid"
}

# wait_ready waits until every node answers an ApiVersions request (the
# kafka-tools BrokerApiVersionsCommand, a real protocol round trip).
wait_ready() {
	local n=$1 i deadline=$((SECONDS + ready_timeout))
	for ((i = 1; i <= n; i++)); do
		while ! port_open "$(client_port "$i")"; do
			# kill -0, not pid_of: right after the fork the process may not
			# have exec'd java yet.
			if ! kill -0 "$(<"$(node_dir "$i")/pid")" 2>/dev/null; then
				tail -20 "$(node_dir "$i")/stdout.log" >&2 || true
				grep -E 'ERROR|FATAL|Exception' "$(node_dir "$i")/server.log" 2>/dev/null | tail -10 >&2 || true
				die "node $i exited during start (logs in $(node_dir "$i"))"
			fi
			((SECONDS < deadline)) || die "node $i did not open 127.0.0.1:$(client_port "$i") in ${ready_timeout}s"
			sleep 0.2
		done
	done
	until java_cmd org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$(bootstrap "$n")" \
		>"$state/ready.log" 2>&1 && (($(grep -c '^127.0.0.1:' "$state/ready.log") >= n)); do
		((SECONDS < deadline)) || { cat "$state/ready.log" >&2; die "brokers did not answer ApiVersions in ${ready_timeout}s"; }
		sleep 0.5
	done
}

up() {
	local n=$1 have i
	fetch
	mkdir -p "$state"
	have=$(nodes)
	if ((have != n)); then
		for ((i = 1; i <= have; i++)); do
			pid_of "$i" >/dev/null && die "a $have-node cluster runs from $state; run '$0 down' first"
		done
		say "formatting a $n-node KRaft cluster in $state"
		format "$n"
	else
		for ((i = 1; i <= n; i++)); do configure "$i" "$n"; done
	fi
	for ((i = 1; i <= n; i++)); do start_node "$i"; done
	wait_ready "$n"
	say "up: $(bootstrap "$n") (state $state)"
	bootstrap "$n"
}

# down signals every node at once, then waits for each: stopped one after
# the other, the last nodes of a 3-node cluster would wait for a controller
# quorum that is gone (30 s each, then SIGKILL).
down() {
	local clean=$1 n i pid pids=()
	n=$(nodes)
	for ((i = 1; i <= n; i++)); do
		pid=$(pid_of "$i") || { pids[i]=""; continue; }
		pids[i]=$pid
		kill -TERM "$pid"
	done
	local deadline=$((SECONDS + 30))
	for ((i = 1; i <= n; i++)); do
		pid=${pids[i]:-}
		[[ -n $pid ]] || continue
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
		if kill -0 "$pid" 2>/dev/null; then
			say "node $i (pid $pid) ignored SIGTERM for 30s; SIGKILL"
			kill -KILL "$pid"
		fi
		say "node $i (pid $pid) stopped"
	done
	for ((i = 1; i <= n; i++)); do rm -f "$(node_dir "$i")/pid"; done
	if [[ $clean == 1 && -d $state ]]; then
		rm -rf "$state"
		say "removed $state"
	fi
}

status() {
	local n i pid up=0
	n=$(nodes)
	if ((n == 0)); then
		echo "kafka: not formatted ($state)"
		return 3
	fi
	for ((i = 1; i <= n; i++)); do
		if pid=$(pid_of "$i"); then
			echo "kafka node $i: up, pid $pid, 127.0.0.1:$(client_port "$i")"
			up=$((up + 1))
		else
			echo "kafka node $i: down"
		fi
	done
	((up == n)) || return 3
	echo "SURGE_KAFKA_BROKERS=$(bootstrap "$n")"
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
brokers=1 clean=0
while (($#)); do
	case $1 in
	--brokers) brokers=${2:?--brokers needs a count}; shift 2 ;;
	--brokers=*) brokers=${1#*=}; shift ;;
	--clean) clean=1; shift ;;
	*) say "unknown argument $1"; usage ;;
	esac
done
[[ $brokers =~ ^[1-9]$ ]] || die "--brokers $brokers: want 1 to 9"

# One script at a time per state directory: test packages run in parallel
# and each may call "up"; the second waits for the first, then finds the
# broker running.
if [[ $cmd != status ]]; then
	mkdir -p "$state"
	exec 9>"$state/.lock"
	flock -w 300 9 || die "another kafka.sh holds $state/.lock for 300s"
fi

case $cmd in
up) up "$brokers" ;;
down) down "$clean" ;;
status) status ;;
restart)
	n=$(nodes)
	((n > 0)) || n=$brokers
	down 0
	up "$n"
	;;
*) usage ;;
esac
