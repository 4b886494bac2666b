#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is missing, build, start ensolved on
# loopback (GPU if there is one, CPU otherwise), and solve the seed example through the CLI:
# Lorenz, t in [0, 100], 10,000 trajectories with p = rand(3) .* (10, 28, 8/3), saved every 1.0.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
build/server/ensolved --address=127.0.0.1:0 --port_file="$work/port" --devices=auto \
  >"$work/ensolved.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  [[ -s $work/port ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/ensolved.log" >&2; exit 1; }
  sleep 0.1
done
[[ -s $work/port ]] || { echo "ensolved did not start" >&2; cat "$work/ensolved.log" >&2; exit 1; }
addr=127.0.0.1:$(cat "$work/port")

echo "== ensolved at $addr"
build/client/ensolve --server="$addr" info
echo
echo "== Lorenz, 10,000 trajectories, t in [0, 100], saveat 0:1:100"
build/client/ensolve --server="$addr" solve server/models/lorenz.ode \
  --sample 'uniform:seed=1:lo=0,0,0:hi=10,28,2.6666666666666665' -n 10000 --t1 100 \
  --saveat 0:1:100 -o "$work/lorenz.npy"
