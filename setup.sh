#!/usr/bin/env bash
# One command from a fresh clone to a running dkron server:
#   - installs nats-server (and a C++ toolchain for better-sqlite3) from the
#     system packages when missing (Debian/Ubuntu: apt-get),
#   - installs the exact npm dependencies (npm ci) and builds dist/,
#   - starts `dkron agent --server` on its embedded default in the background
#     (HTTP API on 127.0.0.1:8080, data in ./dkron.data, log in ./dkron.data/agent.log).
# Usage: ./setup.sh [start|stop|status|--no-start]
set -euo pipefail
cd "$(dirname "$0")"

action="${1:-start}"
data_dir="${DKRON_DATA_DIR:-dkron.data}"
http_addr="${DKRON_HTTP_ADDR:-127.0.0.1:8080}"
pid_file="$data_dir/agent.pid"
log_file="$data_dir/agent.log"

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  kill -0 "$pid" 2>/dev/null && grep -q "dkron" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

stop_agent() {
  local pid
  if pid="$(running_pid)"; then
    say "stopping dkron agent (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
  fi
  rm -f "$pid_file"
}

case "$action" in
  stop) stop_agent; exit 0 ;;
  status)
    if pid="$(running_pid)"; then echo "dkron agent running (pid $pid), API http://$http_addr"; else echo "dkron agent not running"; exit 1; fi
    exit 0 ;;
  start|--no-start) ;;
  *) die "unknown action '$action' (start, stop, status, --no-start)" ;;
esac

# --- system packages -------------------------------------------------------
need_pkgs=()
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ] && [ ! -x /usr/local/sbin/nats-server ]; then
  need_pkgs+=(nats-server)
fi
command -v make >/dev/null 2>&1 || need_pkgs+=(make)
command -v g++ >/dev/null 2>&1 || need_pkgs+=(g++)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)            # the TUI's end-to-end test
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)      # test certificates for the http executor
command -v logger >/dev/null 2>&1 || need_pkgs+=(bsdutils)      # syslog processor
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${need_pkgs[*]}: install them with your package manager (macOS: brew install nats-server)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing ${need_pkgs[*]} (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$node_major" -ge 20 ] || die "Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))"

# --- npm dependencies and build ---------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
say "building dist/"
npm run --silent build

[ "$action" = "--no-start" ] && { say "set up; start the server with ./bin/dkron agent --server"; exit 0; }

# --- start the server --------------------------------------------------------
if pid="$(running_pid)"; then
  say "dkron agent already running (pid $pid); restarting it on the new build"
  stop_agent
fi
mkdir -p "$data_dir"
say "starting dkron agent --server (API http://$http_addr, data $data_dir)"
nohup ./bin/dkron agent --server --data-dir "$data_dir" --http-addr "$http_addr" >>"$log_file" 2>&1 &
echo $! >"$pid_file"
for _ in $(seq 1 150); do
  if curl -fsS "http://$http_addr/health" >/dev/null 2>&1 || node -e "fetch('http://$http_addr/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then
    say "dkron is running: try ./bin/dkron jobs add hello --schedule '@every 1s' --command 'echo hi'"
    say "logs: $log_file   stop: ./setup.sh stop"
    exit 0
  fi
  kill -0 "$(cat "$pid_file")" 2>/dev/null || { tail -n 20 "$log_file" >&2; die "the agent exited during start-up (log above)"; }
  sleep 0.2
done
tail -n 20 "$log_file" >&2
die "the agent did not answer on http://$http_addr/health within 30 s"
