#!/usr/bin/env bash
# A local touchtrail cluster on loopback (`make cluster`): three NATS servers
# with JetStream, clustered; two ingest nodes; two stores owning half of the
# 32 partitions each; a query node. Prints the addresses; Ctrl-C stops everything.
# Usage: deploy/cluster.sh [dir]   (default ./data/cluster; kept between runs)
set -euo pipefail

BIN=${BIN:-bin}
DIR=${1:-./data/cluster}
SITE=demo
WRITE_KEY=cluster-write-key-0123456789
READ_TOKEN=cluster-read-token-0123456789
ADMIN_TOKEN=cluster-admin-token-0123456789
mkdir -p "$DIR"
pids=()
stop() {
	trap - INT TERM EXIT
	echo
	echo "stopping: the touchtrail nodes, then NATS"
	kill -TERM "${pids[@]:3}" 2>/dev/null || true
	wait "${pids[@]:3}" 2>/dev/null || true
	kill -TERM "${pids[@]:0:3}" 2>/dev/null || true
	wait 2>/dev/null || true
	echo "stopped"
	exit 0
}
trap stop INT TERM EXIT

routes="nats://127.0.0.1:6222,nats://127.0.0.1:6223,nats://127.0.0.1:6224"
for n in 1 2 3; do
	cat >"$DIR/nats-n$n.conf" <<CONF
server_name: n$n
listen: 127.0.0.1:$((4221 + n))
jetstream { store_dir: "$DIR/nats-n$n" }
cluster {
  name: touchtrail
  listen: 127.0.0.1:$((6221 + n))
  routes: [$routes]
}
CONF
	"$BIN/nats-server" -c "$DIR/nats-n$n.conf" >"$DIR/nats-n$n.log" 2>&1 &
	pids+=($!)
done
NATS=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224
for port in 4222 4223 4224; do # the nodes start once every NATS server listens
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
done

# Every node gets the same sites and tokens.
cat >"$DIR/touchtrail.json" <<JSON
{"collector": {
  "sites": [{"id": "$SITE", "write_keys": ["$WRITE_KEY"]}],
  "tokens": [{"name": "read", "secret": "$READ_TOKEN", "scopes": ["read"]},
             {"name": "admin", "secret": "$ADMIN_TOKEN", "scopes": ["admin"]}]
}}
JSON
node() { # role name port [partitions]
	local extra=()
	[[ -n ${4:-} ]] && extra=(-partitions "$4")
	"$BIN/touchtrail" serve -nats "$NATS" -role "$1" -node "$2" -addr "127.0.0.1:$3" -data "$DIR/$2" \
		-stream-replicas 3 -config "$DIR/touchtrail.json" "${extra[@]}" >"$DIR/$2.log" 2>&1 &
	pids+=($!)
}
node ingest in1 8081
node ingest in2 8082
node store st1 8091 0-15
node store st2 8092 16-31
node query q1 8090

for port in 8081 8082 8091 8092 8090; do
	for _ in $(seq 300); do
		curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 || { echo "node on :$port not ready; see $DIR/*.log" >&2; exit 1; }
done

cat <<TXT
touchtrail cluster up (logs and data in $DIR):
  NATS (JetStream, clustered): $NATS
  ingest nodes:  http://127.0.0.1:8081  http://127.0.0.1:8082
  store nodes:   http://127.0.0.1:8091 (partitions 0-15)  http://127.0.0.1:8092 (16-31)
  query node:    http://127.0.0.1:8090 (routes each query to the stores owning the data)
  site $SITE, write key $WRITE_KEY, read token $READ_TOKEN, admin token $ADMIN_TOKEN
Ctrl-C stops everything.
TXT
wait -n "${pids[@]}" || true
echo "a process exited; see $DIR/*.log" >&2
