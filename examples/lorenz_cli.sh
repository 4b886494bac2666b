#!/usr/bin/env bash
# The seed example from the command line: Lorenz, t in [0, 100] (from --saveat), 10,000
# trajectories with p = rand(3) .* (10, 28, 8/3) drawn on the server (seed 1), saved every
# 1.0, everything in one .npz (u, t, retcode, steps, names).
#
#   examples/lorenz_cli.sh [SERVER] [OUT.npz]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ensolve=ensolve  # on PATH once installed; else the build tree's
command -v "$ensolve" >/dev/null || ensolve=$here/../build/client/ensolve
"$ensolve" --server="${1:-${ENSOLVE_SERVER:-localhost:50051}}" solve "$here/../server/models/lorenz.ode" \
  --sample 'uniform:seed=1:lo=0,0,0:hi=10,28,2.6666666666666665' -n 10000 --saveat 0:1:100 \
  -o "${2:-lorenz.npz}"
