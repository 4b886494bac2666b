"""The seed example from Python: Lorenz, t in [0, 100], 10,000 trajectories with
p = rand(3) .* (10, 28, 8/3), saved every 1.0.

    python3 examples/lorenz.py [SERVER] [OUT.npy]

SERVER defaults to $ENSOLVE_SERVER, else localhost:50051. The parameters are drawn on the
server (seed 1), so the C++ and CLI examples solve exactly the same ensemble.
"""
import os
import sys

import numpy as np

import ensolve

server = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ENSOLVE_SERVER", "localhost:50051")

# The three lines:
client = ensolve.Client(server)
p = ensolve.uniform([0, 0, 0], [10, 28, 8 / 3], seed=1)  # or any NumPy array of rows
sol = client.solve(ensolve.LORENZ, p=p, n=10_000, tspan=(0, 100), saveat=1.0)

print(sol)
final = sol.u[sol.ok, -1]  # the last save point of the trajectories that reached t = 100
for k, name in enumerate(sol.state_names):
    print(f"  {name}: mean {final[:, k].mean():.6g}, min {final[:, k].min():.6g}, "
          f"max {final[:, k].max():.6g}")
print(f"server: {sol.summary['wall_seconds']:.3f} s on {', '.join(sol.summary['devices'])}")
if len(sys.argv) > 2:
    np.save(sys.argv[2], sol.u)
