#!/usr/bin/python3
"""Work-precision of every ensolve method beside scipy's solve_ivp, in one run.

    bench/work_precision.py [--bench build/bench/ensolve-wp-bench] [--png docs/work_precision.png]

References come from scipy at rtol 1e-13 (DOP853 for Lorenz, Radau with the exact Jacobian
for the stiff problems). scipy's stiff solvers get the exact Jacobian too, so their nfev
counts right-hand side evaluations only, like ensolve's. Prints a markdown table (error,
RHS evaluations, Jacobian evaluations, time per trajectory) and, per problem and kind, the
ratio of RHS evaluations at equal error (log-log interpolation): ensolve / scipy.
"""
import argparse
import subprocess
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp

PROBLEMS = {
    "lorenz": dict(
        t1=2.0, floor=1.0, u0=[1.0, 0.0, 0.0], stiff=False,
        f=lambda t, u: [10 * (u[1] - u[0]), u[0] * (28 - u[2]) - u[1], u[0] * u[1] - 8 / 3 * u[2]],
        jac=None),
    "robertson": dict(
        t1=1e5, floor=1e-10, u0=[1.0, 0.0, 0.0], stiff=True,
        f=lambda t, y: [-0.04 * y[0] + 1e4 * y[1] * y[2],
                        0.04 * y[0] - 3e7 * y[1] ** 2 - 1e4 * y[1] * y[2], 3e7 * y[1] ** 2],
        jac=lambda t, y: [[-0.04, 1e4 * y[2], 1e4 * y[1]],
                          [0.04, -6e7 * y[1] - 1e4 * y[2], -1e4 * y[1]],
                          [0.0, 6e7 * y[1], 0.0]]),
    "vanderpol": dict(
        t1=3000.0, floor=1e-3, u0=[2.0, 0.0], stiff=True,
        f=lambda t, u: [u[1], 1000 * (1 - u[0] ** 2) * u[1] - u[0]],
        jac=lambda t, u: [[0.0, 1.0], [-2000 * u[0] * u[1] - 1, 1000 * (1 - u[0] ** 2)]]),
}
SCIPY = {False: ["RK45", "DOP853"], True: ["Radau", "BDF", "LSODA"]}
TOLS = [10.0 ** -e for e in range(3, 11)]


def error(u, ref, floor):
    return float(np.max(np.abs(np.asarray(u) - ref) / np.maximum(np.abs(ref), floor)))


def reference(p):
    method = "Radau" if p["stiff"] else "DOP853"
    kw = dict(jac=p["jac"]) if p["jac"] else {}
    s = solve_ivp(p["f"], (0, p["t1"]), p["u0"], method=method, rtol=1e-13, atol=1e-16, **kw)
    assert s.success, s.message
    return s.y[:, -1]


def scipy_rows(name, p, ref):
    rows = []
    for method in SCIPY[p["stiff"]]:
        for tol in TOLS:
            kw = dict(jac=p["jac"]) if p["jac"] and method != "RK45" else {}
            start = time.perf_counter()
            s = solve_ivp(p["f"], (0, p["t1"]), p["u0"], method=method, rtol=tol, atol=tol, **kw)
            seconds = time.perf_counter() - start
            rows.append(dict(problem=name, method="scipy " + method, tol=tol,
                             error=error(s.y[:, -1], ref, p["floor"]), rhs=s.nfev, jac=s.njev,
                             steps=len(s.t) - 1, us=1e6 * seconds,
                             retcode="success" if s.success else "failed"))
    return rows


def ensolve_rows(bench, refs):
    args = [bench] + ["--ref=%s:%s" % (k, ",".join("%.17g" % x for x in v)) for k, v in refs.items()]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.splitlines()
    rows = []
    for line in out[1:]:
        problem, method, tol, err, rhs, jac, steps, us, code = line.split("\t")
        rows.append(dict(problem=problem, method=method, tol=float(tol), error=float(err),
                         rhs=int(rhs), jac=int(jac), steps=int(steps), us=float(us), retcode=code))
    return rows


def cost_at(rows, err):
    """RHS evaluations at error `err`, interpolated in log-log (None outside the range)."""
    pts = sorted((r["error"], r["rhs"]) for r in rows if r["retcode"] == "success" and r["error"] > 0)
    for (e0, c0), (e1, c1) in zip(pts, pts[1:]):
        if e0 <= err <= e1 and e1 > e0:
            w = (np.log(err) - np.log(e0)) / (np.log(e1) - np.log(e0))
            return float(np.exp(np.log(c0) + w * (np.log(c1) - np.log(c0))))
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default="build/bench/ensolve-wp-bench")
    ap.add_argument("--png", default="")
    a = ap.parse_args()
    refs = {k: reference(p) for k, p in PROBLEMS.items()}
    rows = ensolve_rows(a.bench, refs)
    for k, p in PROBLEMS.items():
        rows += scipy_rows(k, p, refs[k])

    print("| problem | method | tol | error | RHS evals | Jacobians | steps | µs/trajectory |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        flag = "" if r["retcode"] == "success" else " (" + r["retcode"] + ")"
        print("| %s | %s | %.0e | %.2e | %d | %d | %d | %.1f%s |" % (
            r["problem"], r["method"], r["tol"], r["error"], r["rhs"], r["jac"], r["steps"],
            r["us"], flag))

    print("\nRHS evaluations at equal error, ensolve / scipy (geometric mean over the errors both "
          "reach; < 1: ensolve cheaper)")
    print("| problem | ensolve method | scipy method | ratio | errors compared |")
    print("|---|---|---|---:|---:|")
    for k, p in PROBLEMS.items():
        # Same kind only: explicit methods (no Jacobian) against scipy's explicit ones on the
        # nonstiff problem, stiff methods against scipy's stiff ones on the stiff problems.
        mine = sorted({r["method"] for r in rows if r["problem"] == k
                       and not r["method"].startswith("scipy") and (r["jac"] > 0) == p["stiff"]})
        for m in mine:
            ours = [r for r in rows if r["problem"] == k and r["method"] == m]
            for peer in SCIPY[p["stiff"]]:
                theirs = [r for r in rows if r["problem"] == k and r["method"] == "scipy " + peer]
                ratios = []
                for e in np.logspace(-10, -2, 33):
                    a_, b_ = cost_at(ours, e), cost_at(theirs, e)
                    if a_ and b_:
                        ratios.append(a_ / b_)
                if ratios:
                    print("| %s | %s | %s | %.2f | %d |" % (
                        k, m, peer, float(np.exp(np.mean(np.log(ratios)))), len(ratios)))

    if a.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(2, len(PROBLEMS), figsize=(5 * len(PROBLEMS), 8))
        for j, k in enumerate(PROBLEMS):
            for method in sorted({r["method"] for r in rows if r["problem"] == k}):
                pts = [r for r in rows if r["problem"] == k and r["method"] == method
                       and r["retcode"] == "success" and r["error"] > 0]
                if not pts:
                    continue
                style = "--" if method.startswith("scipy") else "-"
                for i, key in enumerate(("rhs", "us")):
                    axes[i][j].loglog([r["error"] for r in pts], [r[key] for r in pts], style + "o",
                                      ms=3, label=method)
            axes[0][j].set_title(k)
            axes[0][j].set_ylabel("RHS evaluations")
            axes[1][j].set_ylabel("µs per trajectory (scipy: per solve)")
            for i in range(2):
                axes[i][j].set_xlabel("error at t1")
                axes[i][j].grid(True, which="both", alpha=0.3)
            axes[0][j].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(a.png, dpi=90)
        print("\nwrote", a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
