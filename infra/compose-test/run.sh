#!/usr/bin/env bash
# npm run test:compose — the compose deployment for real, on a private dockerd:
#   1. start dockerd (own data/exec roots and socket; no iptables, no default bridge);
#   2. a local Node 22 base (base-image.sh, cached) and stand-ins for redis:7 and SeaweedFS;
#   3. `docker-compose build` of docker-compose.yml (+ the GPU file: Dockerfile.cuda, CPU-only);
#   4. `docker-compose up` with two workers, wait until every role is healthy;
#   5. from the host, as docs/deploying.md shows: enqueue a clip through the published ports,
#      wait for every segment's result, check Redis' settings, restart Redis (AOF) and re-check;
#   6. every role's /metrics; a summary; then everything is torn down, on failure too.
# Needs root, dockerd, docker-compose (1.29 or v2), debootstrap, the npm registry and a Debian
# mirror. Environment: ONEADAPT_COMPOSE_CACHE (base tarball cache, default
# ~/.cache/oneadapt-compose), COMPOSE_TEST_CLIP, COMPOSE_TEST_WORKERS (2),
# COMPOSE_TEST_CUDA_BUILD (1: also build infra/Dockerfile.cuda), COMPOSE_TEST_COMPOSE (the
# compose binary, default docker-compose), COMPOSE_TEST_KEEP (1: leave the stack up and print
# how to reach it; teardown then waits for Enter).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
shared=${ONEADAPT_SHARED_DIR:-$(cd "$root/.." && pwd)/shared}
clip=${COMPOSE_TEST_CLIP:-$shared/footage/highway-320x240.avi}
cache=${ONEADAPT_COMPOSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oneadapt-compose}
workers=${COMPOSE_TEST_WORKERS:-2}
cuda_build=${COMPOSE_TEST_CUDA_BUILD:-1}
compose_bin=${COMPOSE_TEST_COMPOSE:-docker-compose}
t0=$(date +%s)

say() { printf 'test:compose: %s\n' "$*" >&2; }
fail() {
  say "FAILED: $*"
  exit 1
}
elapsed() { echo $(($(date +%s) - $1)); }

[ "$(id -u)" = 0 ] || fail "must run as root (it starts its own dockerd)"
for tool in dockerd "$compose_bin" debootstrap node npx; do
  command -v "$tool" >/dev/null || fail "$tool not found (apt-get install -y docker.io docker-compose debootstrap)"
done
[ -f "$clip" ] || fail "clip not found: $clip"
[ -d "$shared/models" ] || fail "models not found: $shared/models"

# The CLI that matches dockerd: docker.io's has BuildKit built in; a newer one needs buildx.
docker_cli=$(command -v docker || true)
[ -x /usr/bin/docker ] && docker_cli=/usr/bin/docker
[ -n "$docker_cli" ] || fail "docker CLI not found"
if [ "$("$docker_cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)" -lt 23 ] 2>/dev/null ||
  "$docker_cli" buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=1
else
  export DOCKER_BUILDKIT=0
fi
# docker-compose 1.29 builds through that CLI (BuildKit) when it can, else through docker-py.
export COMPOSE_DOCKER_CLI_BUILD=$DOCKER_BUILDKIT
docker() { "$docker_cli" "$@"; }

work=$(mktemp -d /tmp/oneadapt-compose.XXXXXX)
chmod 0755 "$work"
sock="$work/docker.sock"
export DOCKER_HOST="unix://$sock"
project="oneadaptct$$"
dockerd_pid=
bridges_before=$(ls /sys/class/net)
mkdir -p "$work/bin"
ln -s "$docker_cli" "$work/bin/docker"
export PATH="$work/bin:$PATH"

compose_files=(-f docker-compose.yml -f infra/compose-test/docker-compose.test.yml)
# docker-compose with this run's project, env file and files; ct_timeout bounds it (seconds).
compose() { timeout "${ct_timeout:-600}" "$compose_bin" -p "$project" --env-file "$work/test.env" "${compose_files[@]}" "$@"; }

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ "${COMPOSE_TEST_KEEP:-0}" = 1 ] && [ -n "$dockerd_pid" ]; then
    say "kept up: DOCKER_HOST=$DOCKER_HOST $compose_bin -p $project --env-file $work/test.env ${compose_files[*]} ps"
    say "press Enter to tear down"
    read -r _ </dev/tty
  fi
  if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
    if [ -f "$work/test.env" ]; then
      if [ "$rc" != 0 ]; then
        say "logs of the stack (last 40 lines per service):"
        ct_timeout=60 compose logs --no-color --tail 40 >&2 2>&1
      fi
      ct_timeout=180 compose down -v --remove-orphans -t 20 >/dev/null 2>&1
    fi
    kill -TERM "$dockerd_pid"
    for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$dockerd_pid" 2>/dev/null
  fi
  # Whatever that dockerd left: processes started from its roots (containerd, shims, proxies).
  local p cmd
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    cmd=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
    case "$cmd" in *"$work"*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
  done
  awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  local dev
  for dev in $(ls /sys/class/net); do
    case "$dev" in br-*) case " $(echo $bridges_before) " in *" $dev "*) ;; *) ip link delete "$dev" 2>/dev/null ;; esac ;; esac
  done
  rm -rf "$work"
  say "torn down (dockerd, containers, volumes, images and $work removed)"
  if [ "$rc" = 0 ]; then say "PASSED in $(elapsed "$t0") s"; else say "FAILED after $(elapsed "$t0") s"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. dockerd.
say "starting dockerd (roots in $work)"
mkdir -p "$work/tmp"
TMPDIR="$work/tmp" dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 \
  --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
  -H "unix://$sock" >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
docker info >/dev/null 2>&1 || { tail -20 "$work/dockerd.log" >&2; fail "dockerd did not start"; }

# 2. Base image and stand-ins.
t=$(date +%s)
tarball=$(bash infra/compose-test/base-image.sh "$cache")
docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$tarball" oneadapt-compose-test/base:local >/dev/null
mkdir -p "$work/standins/ca"
cp infra/compose-test/Dockerfile.standins "$work/standins/Dockerfile"
cp /usr/local/share/ca-certificates/*.crt "$work/standins/ca/" 2>/dev/null || true
for target in node22 redis; do
  docker build -q --network host --build-arg BASE=oneadapt-compose-test/base:local --target "$target" \
    -t "oneadapt-compose-test/$target:local" "$work/standins" >/dev/null
done
base_s=$(elapsed "$t")
say "base image and stand-ins ready in $base_s s"

# Free host ports, and secrets made for this run.
read -r redis_port s3_port coord_port ingest_port < <(node -e '
  const net = require("node:net");
  const servers = [];
  const next = () => { const s = net.createServer().listen(0, "127.0.0.1", () => { servers.push(s); servers.length < 4 ? next() : (console.log(servers.map((x) => x.address().port).join(" ")), servers.forEach((x) => x.close())); }); };
  next();')
secret() { node -e 'console.log(require("node:crypto").randomBytes(18).toString("base64url").replace(/[^A-Za-z0-9]/g, "x"))'; }
redis_password=$(secret)
s3_key="ct$(secret | cut -c1-12)"
s3_secret=$(secret)
mkdir -p "$work/models"
cp -r "$shared/models/." "$work/models/"
chown -R 10001:10001 "$work/models"
cat >"$work/test.env" <<EOF
REDIS_PASSWORD=$redis_password
S3_ACCESS_KEY_ID=$s3_key
S3_SECRET_ACCESS_KEY=$s3_secret
S3_BUCKET=oneadapt-compose-test
ONEADAPT_BIND_HOST=127.0.0.1
REDIS_HOST_PORT=$redis_port
S3_HOST_PORT=$s3_port
COORDINATOR_METRICS_HOST_PORT=$coord_port
INGEST_METRICS_HOST_PORT=$ingest_port
ONEADAPT_MODELS=$work/models
ONEADAPT_IMAGE=oneadapt-compose-test/app:local
ONEADAPT_CUDA_IMAGE=oneadapt-compose-test/app:local-cuda
COMPOSE_TEST_NODE_IMAGE=oneadapt-compose-test/node22:local
COMPOSE_TEST_REDIS_IMAGE=oneadapt-compose-test/redis:local
EOF

compose config -q || fail "$compose_bin rejects docker-compose.yml + the test override"
"$compose_bin" -p "$project" --env-file "$work/test.env" -f docker-compose.yml -f docker-compose.gpu.yml config -q ||
  fail "$compose_bin rejects docker-compose.yml + docker-compose.gpu.yml"

# 3. Images, built by compose from the real build sections.
t=$(date +%s)
# The role services and `models` share one image (one build section, one tag): build it once.
say "docker-compose build models (infra/Dockerfile, NODE_IMAGE=the local base)"
compose build models >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "image build"; }
build_s=$(elapsed "$t")
images="oneadapt-compose-test/app:local"
cuda_s=-
if [ "$cuda_build" = 1 ]; then
  t=$(date +%s)
  say "docker-compose build worker with docker-compose.gpu.yml (infra/Dockerfile.cuda; CUDA base and provider download replaced)"
  "$compose_bin" -p "$project" --env-file "$work/test.env" -f docker-compose.yml -f docker-compose.gpu.yml \
    -f infra/compose-test/docker-compose.test.yml build worker >"$work/build-cuda.log" 2>&1 || { tail -40 "$work/build-cuda.log" >&2; fail "CUDA image build"; }
  cuda_s=$(elapsed "$t")
  images="$images oneadapt-compose-test/app:local-cuda"
fi
app_image=oneadapt-compose-test/app:local
[ "$(docker image inspect -f '{{.Config.User}}' "$app_image")" = 10001:10001 ] || fail "the image does not run as uid 10001"

# 4. Up, with several workers.
t=$(date +%s)
say "docker-compose up --scale worker=$workers"
compose up -d --no-build --scale "worker=$workers" >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "compose up"; }
roles=(coordinator ingest worker)
# Waits until every role container runs and is healthy; fails on any other state.
wait_healthy() { # <seconds>
  local deadline=$(($(date +%s) + $1)) pending s ids id state
  while :; do
    pending=0
    for s in "${roles[@]}"; do
      ids=$(compose ps -q "$s")
      [ -n "$ids" ] || fail "no container for $s"
      for id in $ids; do
        state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")
        case "$state" in
          "running healthy") ;;
          running*) pending=1 ;;
          *) fail "$s container ${id:0:12} is $state" ;;
        esac
      done
    done
    [ "$pending" = 0 ] && return
    [ "$(date +%s)" -lt "$deadline" ] || fail "roles not healthy within $1 s"
    sleep 2
  done
}
wait_healthy 240
[ "$(compose ps -q worker | wc -l)" = "$workers" ] || fail "expected $workers workers"
models_exit=$(docker inspect -f '{{.State.ExitCode}}' "$(compose ps -a -q models)")
[ "$models_exit" = 0 ] || fail "models service exited $models_exit"
up_s=$(elapsed "$t")
say "stack healthy in $up_s s: $(compose ps --services | tr '\n' ' ')"

# Redis as configured: persistence, no eviction, a password; ports on 127.0.0.1 only.
redis_id=$(compose ps -q redis)
rcli() { docker exec "$redis_id" redis-cli "$@"; }
[ "$(rcli --raw CONFIG GET appendonly | tail -1)" = yes ] || fail "redis: appendonly is not yes"
[ "$(rcli --raw CONFIG GET maxmemory-policy | tail -1)" = noeviction ] || fail "redis: maxmemory-policy is not noeviction"
docker exec -e REDISCLI_AUTH= "$redis_id" redis-cli ping 2>&1 | grep -q NOAUTH || fail "redis answers without the password"
for s in redis s3 coordinator ingest; do
  bindings=$(docker port "$(compose ps -q "$s")")
  echo "$bindings" | grep -vq ' 127\.0\.0\.1:' && fail "$s publishes beyond 127.0.0.1: $bindings"
done
for id in $(compose ps -q worker); do
  [ -z "$(docker port "$id")" ] || fail "a worker publishes a host port"
done

# 5. The host's view: the published ports and the .env credentials.
export REDIS_URL="redis://:$redis_password@127.0.0.1:$redis_port"
export S3_ENDPOINT="http://127.0.0.1:$s3_port" S3_ACCESS_KEY_ID="$s3_key" S3_SECRET_ACCESS_KEY="$s3_secret" S3_BUCKET=oneadapt-compose-test
export ONEADAPT_MODELS_DIR="$shared/models" AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
t=$(date +%s)
say "enqueue $(basename "$clip") from the host and wait"
timeout 900 npx tsx app/cli/main.ts enqueue "$clip" --wait >"$work/enqueue.log" 2>&1 || { cat "$work/enqueue.log" >&2; fail "enqueue --wait"; }
process_s=$(elapsed "$t")
stream=$(sed -n 's/.*enqueued .* as stream \([^ ]*\).*/\1/p' "$work/enqueue.log" | head -1)
[ -n "$stream" ] || fail "no stream id in: $(cat "$work/enqueue.log")"
results=$(npx tsx infra/compose-test/results.ts "$stream") || fail "results incomplete: $results"

say "restarting redis: the stack must come back with its state (AOF)"
role_ids() { for s in "${roles[@]}"; do compose ps -q "$s"; done | sort; }
restarts() { for id in $(role_ids); do docker inspect -f '{{.Id}} {{.RestartCount}}' "$id"; done; }
restarts_before=$(restarts)
compose restart -t 10 redis >/dev/null 2>&1
for _ in $(seq 1 60); do [ "$(docker inspect -f '{{.State.Health.Status}}' "$redis_id")" = healthy ] && break; sleep 1; done
sleep 5 # more than ONEADAPT_EPOCH_CHECK_MS: a role that found Redis empty would be stopping now
after=$(npx tsx infra/compose-test/results.ts "$stream") || fail "after the Redis restart: $after"
wait_healthy 60
[ "$(restarts)" = "$restarts_before" ] || fail "a role stopped or restarted after the Redis restart"

# 6. Metrics of every role.
metric_lines=""
get() { node -e 'fetch(process.argv[1]).then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(e.message); process.exit(1); })' "$1"; }
in_container() { docker exec "$1" node -e 'fetch("http://127.0.0.1:9464/metrics").then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, () => process.exit(1))'; }
# The stream's counters and the queues' non-zero counts.
pick() { grep -E '^(oneadapt_segments_processed_total|bullmq_job_count)' | grep -v ' 0$' || true; }
total=$(node -e 'console.log(JSON.parse(process.argv[1]).streams[0].totalSegments)' "$results")
processed=0
scraped() { # <role label> <metrics text>
  metric_lines+="$1: $(echo "$2" | pick | tr '\n' ';')"$'\n'
  echo "$2" | grep -q '^bullmq_job_count{queue="segments"' || fail "$1: no bullmq_job_count for the segments queue in /metrics"
}
m=$(get "http://127.0.0.1:$coord_port/metrics") || fail "coordinator /metrics on the host port"
scraped coordinator "$m"
completed=$(echo "$m" | awk '/^bullmq_job_count\{queue="segments", ?state="completed"\}/ { print $NF }')
[ "${completed:-0}" -ge "$total" ] || fail "coordinator: bullmq_job_count of completed segments is ${completed:-none}, expected >= $total"
m=$(get "http://127.0.0.1:$ingest_port/metrics") || fail "ingest /metrics on the host port"
scraped ingest "$m"
for id in $(compose ps -q worker); do
  m=$(in_container "$id") || fail "worker ${id:0:12} /metrics"
  scraped "worker ${id:0:12}" "$m"
  n=$(echo "$m" | awk -v s="stream=\"$stream\"" '/^oneadapt_segments_processed_total/ && index($0, s) { sum += $NF } END { print sum + 0 }')
  processed=$((processed + ${n%.*}))
done
[ "$processed" -ge "$total" ] || fail "workers' oneadapt_segments_processed_total for $stream adds up to $processed, expected >= $total"

# Summary.
echo
echo "== test:compose summary =="
echo "compose:        $compose_bin $("$compose_bin" version --short 2>/dev/null); dockerd $(docker version --format '{{.Server.Version}}'); builds: $([ "$DOCKER_BUILDKIT" = 1 ] && echo BuildKit || echo classic builder)"
for img in oneadapt-compose-test/node22:local oneadapt-compose-test/redis:local $images; do
  printf 'image:          %-42s %s MB\n' "$img" $(($(docker image inspect -f '{{.Size}}' "$img") / 1000000))
done
echo "services:       $(compose ps --services | tr '\n' ' ')(worker x$workers)"
echo "stream:         $stream ($(basename "$clip"))"
echo "results:        $results"
echo "after restart:  $after"
printf 'metrics:\n%s\n' "$(printf '%s' "$metric_lines" | sed 's/^/  /')"
echo "time (s):       base $base_s, build $build_s, cuda build $cuda_s, up $up_s, enqueue→all results $process_s, total $(elapsed "$t0")"
echo
