#!/usr/bin/env bash
# berthd's Prometheus endpoint (metrics-addr in daemon.json, --metrics-addr): off by default,
# loopback for a bare :PORT, the text format as promtool checks it, the engine's and the
# containers' metrics with their values (a memory limit, a network's bytes, an OOM kill, a
# restart, request counts by route), and Debian's prometheus server scraping it on loopback.
source "$(dirname "$0")/lib.sh"
set -E
trap '[[ $- == *e* && $BASH_SUBSHELL == 0 ]] && echo "FAIL: unexpected failure at line $LINENO: $BASH_COMMAND" >&2' ERR

command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/setup.sh installs it)"
tarball=$(busybox_tar)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listens() { ss -Hltnp | grep "pid=$1," | awk '{print $4}'; }

step "off by default"
start_berthd plain
check_eq "$(listens "$BERTHD_PID")" "" "no TCP listener without metrics-addr"
stop_pid "$BERTHD_PID" berthd

step "a bare :PORT in daemon.json listens on loopback"
mkdir -p "$WORK/m"
echo '{"metrics-addr": ":0"}' >"$WORK/m/daemon.json"
start_berthd m
addr=$(listens "$BERTHD_PID")
check_match "$addr" '^127\.0\.0\.1:[0-9]+$' "the listener"
check_contains "$(cat "$BERTHD_DIR/berthd.log")" "metrics listening on $addr" "the log says where"
docker() { bdocker "$@"; }
docker import "$tarball" busybox >/dev/null
defer 'docker rm -f $(docker ps -aq) >/dev/null 2>&1 || true'
scrape() { curl -sf "http://$addr/metrics"; }

docker run -d --name capped -m 64m busybox sh -c 'while :; do :; done' >/dev/null
docker run -d --name talker busybox sleep 1000 >/dev/null
docker exec talker ping -c 3 -i 0.2 "$(docker inspect -f '{{.NetworkSettings.IPAddress}}' capped)" >/dev/null
docker run --name hog -m 16m --memory-swap 16m busybox sh -c 'a=$(head -c 67108864 /dev/zero | tr "\000" x)' >/dev/null 2>&1 || true
docker run -d --name again --restart on-failure:1 busybox false >/dev/null
wait_for 20 bash -c "[ \"\$(DOCKER_HOST=unix://$BERTHD_SOCK $DOCKER_CLI inspect -f '{{.RestartCount}} {{.State.Status}}' again)\" = '1 exited' ]" ||
  check_fail "again restarted once"
docker create --name idle busybox true >/dev/null

step "the text format"
run_capture curl -s -D "$WORK/headers" -o "$WORK/metrics" "http://$addr/metrics"
check_eq "$RC" 0 "scrape"
check_contains "$(cat "$WORK/headers")" "Content-Type: text/plain; version=0.0.4; charset=utf-8" "content type"
run_capture promtool check metrics <"$WORK/metrics"
check_eq "$RC $OUT" "0 " "promtool check metrics"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/other")" "404" "another path"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$addr/metrics")" "405" "a POST"

step "the values"
m=$(scrape)
value() { awk -v want="$1" 'index($0, want) == 1 {print $NF}' <<<"$m"; }
id() { docker inspect -f '{{.Id}}' "$1"; }
lbl() { echo "{name=\"$1\",id=\"$(id "$1")\",image=\"busybox\"}"; }
check_eq "$(value 'engine_daemon_container_states_containers{state="running"}')" "2" "running"
check_eq "$(value 'engine_daemon_container_states_containers{state="stopped"}')" "3" "stopped"
check_eq "$(value "container_spec_memory_limit_bytes$(lbl capped)")" "67108864" "capped's limit"
check_eq "$(value "container_spec_memory_limit_bytes$(lbl talker)")" "0" "no limit"
usage=$(value "container_memory_usage_bytes$(lbl capped)")
((usage > 0 && usage < 67108864)) || check_fail "capped's memory usage: $usage"
cpu=$(value "container_cpu_usage_seconds_total$(lbl capped)")
awk -v c="$cpu" 'BEGIN {exit !(c > 0)}' || check_fail "capped's CPU seconds: $cpu"
tx=$(value "container_network_transmit_packets_total{name=\"talker\",id=\"$(id talker)\",image=\"busybox\",interface=\"eth0\"}")
((tx >= 3)) || check_fail "talker's pings were sent: $tx packets"
check_eq "$(value "container_oom_events_total$(lbl hog)")" "1" "hog's OOM kill"
check_eq "$(value "container_oom_events_total$(lbl capped)")" "0" "no OOM for capped"
check_eq "$(value "berth_container_restarts_total$(lbl again)")" "1" "again's restart"
check_eq "$(value 'berth_api_requests_total{method="POST",route="/containers/{name}/start",code="204"}')" "4" "starts counted by route"
check_match "$(value 'berth_api_request_duration_seconds_count{method="POST",route="/containers/create"}')" '^[0-9]+$' "latency histogram by route"
check_eq "$(value 'berth_api_request_duration_seconds_bucket{method="POST",route="/containers/create",le="+Inf"}')" \
  "$(value 'berth_api_request_duration_seconds_count{method="POST",route="/containers/create"}')" "+Inf bucket is the count"
check_eq "$(value 'builder_builds_triggered_total')" "0" "no builds"
check_match "$(value 'berth_image_pulls_total')" '^0$' "no pulls (images came from import)"

step "Debian's prometheus scrapes it"
pport=$(free_port)
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: berthd
    static_configs:
      - targets: ['$addr']
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom-data" \
  --web.listen-address="127.0.0.1:$pport" >"$WORK/prometheus.log" 2>&1 &
prom_pid=$!
defer "stop_pid $prom_pid prometheus"
query() { curl -sf --get "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(" ".join(sorted(x["value"][1] for x in r)))'; }
wait_for 30 bash -c "[ \"\$(curl -sf --get http://127.0.0.1:$pport/api/v1/query --data-urlencode 'query=up{job=\"berthd\"}' | grep -o '\"1\"')\" ]" ||
  { cat "$WORK/prometheus.log" >&2; check_fail "prometheus scraped berthd (up is 1)"; }
check_eq "$(query 'container_spec_memory_limit_bytes{name="capped"}')" "67108864" "capped's limit through prometheus"
check_eq "$(query 'container_oom_events_total{name="hog",image="busybox"}')" "1" "hog's OOM through prometheus"
check_eq "$(query 'engine_daemon_container_states_containers')" "0 2 3" "containers by state through prometheus"
check_match "$(query 'histogram_quantile(0.5, sum by (le) (berth_api_request_duration_seconds_bucket))')" '^[0-9.e+-]+$' "a latency quantile"
check_eq "$(query 'scrape_samples_scraped{job="berthd"} > 50')" "$(query 'scrape_samples_scraped{job="berthd"}')" "the whole page is taken"

finish_checks metrics_prometheus
