"""A bifurcation diagram of the Lorenz system over rho, from one ensemble: 600 values of rho
in [0, 200] (sigma = 10, beta = 8/3), t in [0, 80]; after the transient (t >= 30) the local
maxima of z are plotted against rho. Below rho ~ 24.7 trajectories settle on a fixed point
(z = rho - 1, the blue line); above it the chaotic band appears, with periodic windows
near rho ~ 100, ~ 145 and ~ 150-166.

    python3 examples/bifurcation.py [SERVER] [OUT.png]
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import ensolve  # noqa: E402

server = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ENSOLVE_SERVER", "localhost:50051")
out = sys.argv[2] if len(sys.argv) > 2 else "bifurcation.png"

rho = np.linspace(0, 200, 600)
with ensolve.Client(server) as client:
    # sigma and beta keep the model's defaults; u0 = (1, 0, 0) from the model.
    sol = client.solve(ensolve.LORENZ, p={"rho": rho}, tspan=(0, 80),
                       saveat=np.arange(30, 80, 0.01), reltol=1e-6, abstol=1e-8)
z = sol.u[:, :, 2]
# Trajectories that settled on a fixed point barely move after the transient: plot their
# final z. For the others, the local maxima of z (a discrete Poincare section).
settled = np.ptp(z, axis=1) < 1e-2
peak = (z[:, 1:-1] > z[:, :-2]) & (z[:, 1:-1] >= z[:, 2:]) & ~settled[:, None]
rows, cols = np.nonzero(peak)
zmax = z[:, 1:-1][rows, cols]

fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
ax.scatter(rho[rows], zmax, s=0.3, c="k", alpha=0.5, linewidths=0)
ax.scatter(rho[settled], z[settled, -1], s=2, c="tab:blue", linewidths=0,
           label="fixed point (final z)")
ax.set_xlabel(r"$\rho$")
ax.set_ylabel(r"local maxima of $z$ for $t \geq 30$")
ax.set_title(f"Lorenz bifurcation diagram: {len(rho)} trajectories in one ensolve request "
             f"({sol.summary['wall_seconds']:.1f} s)")
ax.legend(loc="upper left", markerscale=4)
ax.set_xlim(rho[0], rho[-1])
fig.tight_layout()
fig.savefig(out)
print(f"{sol}\nwrote {out}: {len(zmax)} maxima, {int(settled.sum())} settled trajectories")
