#!/usr/bin/env python3
"""The Lorenz ensemble benchmark on the peers: diffrax (JAX, vmap over diffeqsolve, Tsit5)
and torchdiffeq (PyTorch, one batched tensor; rk4 for the fixed-step case and dopri5 for
the adaptive one, since torchdiffeq has no Tsit5). Same problem as ensolve-gpu-bench:
rho = linspace(0, 21, N), t in [0, 1], u0 = (1, 0, 0), fixed dt = 1e-3 or adaptive 1e-6,
final state only. Wall time of a warm call (compiled/traced once before), median of
--reps, device synchronized. Sizes grow until one call would exceed --cap seconds.

Writes TSV rows (system, precision, mode, n, ms, note) to --out and prints them.
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def params(n, np_mod):
    p = np_mod.zeros((n, 3))
    p[:, 0] = 10.0
    p[:, 1] = np_mod.linspace(0.0, 21.0, n)
    p[:, 2] = 8.0 / 3.0
    return p


def diffrax_runner(precision, adaptive):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import diffrax
    import numpy as np

    dtype = jnp.float32 if precision == "float32" else jnp.float64

    def f(t, u, p):
        x, y, z = u[0], u[1], u[2]
        return jnp.stack([p[0] * (y - x), x * (p[1] - z) - y, x * y - p[2] * z])

    term = diffrax.ODETerm(f)
    solver = diffrax.Tsit5()
    if adaptive:
        ctrl = diffrax.PIDController(rtol=1e-6, atol=1e-6)
        dt0, max_steps = None, 100000
    else:
        ctrl = diffrax.ConstantStepSize()
        dt0, max_steps = 1e-3, 1100

    def one(p):
        sol = diffrax.diffeqsolve(term, solver, t0=0.0, t1=1.0, dt0=dt0,
                                  y0=jnp.array([1.0, 0.0, 0.0], dtype=dtype), args=p,
                                  stepsize_controller=ctrl, saveat=diffrax.SaveAt(t1=True),
                                  max_steps=max_steps)
        return sol.ys[-1]

    batched = jax.jit(jax.vmap(one))

    def run(n):
        p = jnp.asarray(params(n, np), dtype=dtype)
        return lambda: batched(p).block_until_ready()

    return run


def torchdiffeq_runner(precision, adaptive):
    import torch
    from torchdiffeq import odeint

    dtype = torch.float32 if precision == "float32" else torch.float64
    dev = torch.device("cuda")

    def run(n):
        import numpy as np
        p = torch.tensor(params(n, np), dtype=dtype, device=dev)
        s, r, b = p[:, 0], p[:, 1], p[:, 2]

        def f(t, u):
            x, y, z = u[:, 0], u[:, 1], u[:, 2]
            return torch.stack([s * (y - x), x * (r - z) - y, x * y - b * z], dim=1)

        u0 = torch.zeros((n, 3), dtype=dtype, device=dev)
        u0[:, 0] = 1.0
        ts = torch.tensor([0.0, 1.0], dtype=dtype, device=dev)

        def call():
            with torch.no_grad():
                if adaptive:
                    out = odeint(f, u0, ts, method="dopri5", rtol=1e-6, atol=1e-6)
                else:
                    out = odeint(f, u0, ts, method="rk4", options=dict(step_size=1e-3))
            torch.cuda.synchronize()
            return out[-1]

        return call

    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--system", choices=["diffrax", "torchdiffeq"], required=True)
    ap.add_argument("--out", default="")
    ap.add_argument("--log2", default="10,14,17,20,23")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cap", type=float, default=6.0, help="seconds per call before stopping")
    ap.add_argument("--budget", type=float, default=150.0, help="seconds for this system")
    ap.add_argument("--modes", default="fixed,adaptive")
    ap.add_argument("--precisions", default="float32,float64")
    args = ap.parse_args()
    sizes = [1 << int(x) for x in args.log2.split(",")]
    make = diffrax_runner if args.system == "diffrax" else torchdiffeq_runner
    method = {"diffrax": ("tsit5", "tsit5"), "torchdiffeq": ("rk4", "dopri5")}[args.system]
    out = open(args.out, "a") if args.out else None
    start = time.perf_counter()
    for precision in args.precisions.split(","):
        for adaptive in [m == "adaptive" for m in args.modes.split(",")]:
            mode = "adaptive" if adaptive else "fixed"
            try:
                run = make(precision, adaptive)
            except Exception as e:  # a missing package: say so, keep going
                print(f"{args.system} unavailable: {e}", flush=True)
                return 0
            last = 0.0
            for n in sizes:
                if time.perf_counter() - start > args.budget:
                    print(f"{args.system}: budget spent, stopping", flush=True)
                    break
                # Small sizes are launch-bound (flat in N); extrapolate only from long calls.
                if last > args.cap / 2 or (last > 0.5 and last * n / prev_n > args.cap):
                    break
                try:
                    call = run(n)
                    t0 = time.perf_counter()
                    call()  # compile / warm up
                    first = time.perf_counter() - t0
                    times = []
                    for _ in range(args.reps if first < args.cap / 2 else 1):
                        t0 = time.perf_counter()
                        call()
                        times.append(time.perf_counter() - t0)
                except Exception as e:
                    print(f"{args.system} {precision} {mode} n={n}: failed: {e}", flush=True)
                    break
                ms = statistics.median(times) * 1e3
                last, prev_n = ms / 1e3, n
                row = f"{args.system}\t{precision}\t{mode}\t{n}\t{ms:.3f}\t{method[adaptive]}"
                print(row, flush=True)
                if out:
                    out.write(row + "\n")
                    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
