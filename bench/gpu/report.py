#!/usr/bin/env python3
"""Merges the TSV rows of ensolve-gpu-bench, ensolve-e2e-bench and peers.py into one
markdown table (stdout, and --md FILE) and a plot of time against N per system (--png FILE,
needs matplotlib). Rows: system, precision, mode, n, ms, note."""
import argparse
import collections
import math
import sys


def load(paths):
    rows = {}
    notes = {}
    for path in paths:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            f = line.split("\t")
            if len(f) < 5:
                continue
            try:
                key = (f[0], f[1], f[2], int(f[3]))
                rows[key] = float(f[4])
                notes[f[0]] = f[5] if len(f) > 5 else ""
            except ValueError:
                continue
    return rows, notes


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def table(rows, notes):
    out = []
    g = rows.get
    out.append("| precision | mode | N | ensolve kernel | hand-written ceiling | kernel / ceiling |"
               " ensolve Solve() | Solve(), sampled | end-to-end | end-to-end, 2^18 batches |"
               " diffrax | torchdiffeq | diffrax / kernel |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ns = sorted({k[3] for k in rows if k[0] == "ensolve-kernel"})
    for prec in ("float32", "float64"):
        for mode in ("fixed", "adaptive"):
            for n in ns:
                k = g(("ensolve-kernel", prec, mode, n))
                c = g(("ceiling", prec, mode, n))
                dx = g(("diffrax", prec, mode, n))
                td = g(("torchdiffeq", prec, mode, n))
                r = ratio(k, c)
                out.append(
                    f"| {prec} | {mode} | 2^{int(math.log2(n))} | {fmt(k)} | {fmt(c)} | "
                    f"{'—' if r is None else f'{r:.2f}'} | {fmt(g(('ensolve-solve', prec, mode, n)))} | "
                    f"{fmt(g(('ensolve-solve-sampled', prec, mode, n)))} | "
                    f"{fmt(g(('e2e', prec, mode, n)))} | {fmt(g(('e2e-b18', prec, mode, n)))} | "
                    f"{fmt(dx)} | {fmt(td)} | "
                    f"{'—' if ratio(dx, k) is None else f'{ratio(dx, k):.0f}×'} |")
    out.append("")
    out.append("All times in milliseconds, medians of warm runs. ensolve and the ceiling: Tsit5; "
               "diffrax: Tsit5; torchdiffeq: rk4 (fixed) and dopri5 (adaptive), it has no Tsit5.")
    goal = [n for n in (1 << 20,) if g(("ensolve-upload", "float32", "fixed", n)) is not None]
    for n in goal:
        out.append("")
        out.append(f"| end-to-end goal, N = 2^{int(math.log2(n))} | precision | mode | kernel | upload |"
                   " download | kernel + transfer | end-to-end (2^20 / 2^18 batches) | ratio |")
        out.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for prec in ("float32", "float64"):
            for mode in ("fixed", "adaptive"):
                k = g(("ensolve-kernel", prec, mode, n))
                up = g(("ensolve-upload", prec, mode, n))
                down = g(("ensolve-download", prec, mode, n))
                e1, e2 = g(("e2e", prec, mode, n)), g(("e2e-b18", prec, mode, n))
                if None in (k, up, down):
                    continue
                kt = k + up + down
                best = min(v for v in (e1, e2) if v is not None) if (e1 or e2) else None
                out.append(f"| | {prec} | {mode} | {fmt(k)} | {fmt(up)} | {fmt(down)} | {fmt(kt)} | "
                           f"{fmt(e1)} / {fmt(e2)} | "
                           f"{'—' if best is None else f'{best / kt:.2f}×'} |")
    lat = [(k, v) for k, v in rows.items() if "latency" in k[0]]
    if lat:
        out.append("")
        out.append("| small request (1,024 trajectories) | precision | mode | p50 (ms) | p99 (ms) |")
        out.append("|---|---|---|---:|---:|")
        for sysname, label in (("latency", "backend Solve()"), ("e2e-latency", "end-to-end")):
            for prec in ("float32", "float64"):
                for mode in ("fixed", "adaptive"):
                    p50 = g((f"{sysname}-p50", prec, mode, 1024))
                    p99 = g((f"{sysname}-p99", prec, mode, 1024))
                    if p50 is not None:
                        out.append(f"| {label} | {prec} | {mode} | {fmt(p50)} | {fmt(p99)} |")
    multi = [k for k in rows if k[0] == "multi-1gpu"]
    if multi:
        out.append("")
        out.append("| several GPUs, N = 2^23 | precision | mode | 1 GPU (ms) | 2 GPUs (ms) | speed-up |"
                   " kernel, 1 GPU (ms) | kernel, 2 GPUs (ms) | kernel speed-up |")
        out.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for k in sorted(multi):
            one = rows[k]
            two = g(("multi-2gpu",) + k[1:])
            k1 = g(("multi-kernel-1gpu",) + k[1:])
            k2 = g(("multi-kernel-2gpu",) + k[1:])
            r, rk = ratio(one, two), ratio(k1, k2)
            out.append(f"| Solve() on each device, wall | {k[1]} | {k[2]} | {fmt(one)} | {fmt(two)} | "
                       f"{'—' if r is None else f'{r:.2f}×'} | {fmt(k1)} | {fmt(k2)} | "
                       f"{'—' if rk is None else f'{rk:.2f}×'} |")
    return "\n".join(out)


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: plot skipped", file=sys.stderr)
        return
    systems = [("ensolve-kernel", "ensolve kernel"), ("ceiling", "hand-written CUDA"),
               ("ensolve-solve", "ensolve Solve()"),
               ("ensolve-solve-sampled", "ensolve Solve(), inputs sampled on the device"),
               ("e2e", "ensolved end-to-end"), ("e2e-b18", "ensolved end-to-end, 2^18 batches"),
               ("diffrax", "diffrax (JAX)"), ("torchdiffeq", "torchdiffeq")]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    for ax, (prec, mode) in zip(axes.flat, [("float32", "fixed"), ("float32", "adaptive"),
                                            ("float64", "fixed"), ("float64", "adaptive")]):
        for key, label in systems:
            pts = sorted((k[3], v) for k, v in rows.items() if k[:3] == (key, prec, mode))
            if pts:
                ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", label=label, ms=3)
        ax.set_title(f"Lorenz ensemble, Tsit5 {mode}, {prec}")
        ax.set_xlabel("trajectories N")
        ax.set_ylabel("time (ms)")
        ax.grid(True, which="both", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tsv", nargs="+")
    ap.add_argument("--md", default="")
    ap.add_argument("--png", default="")
    args = ap.parse_args()
    rows, notes = load(args.tsv)
    text = table(rows, notes)
    print(text)
    if args.md:
        open(args.md, "w").write(text + "\n")
    if args.png:
        plot(rows, args.png)


if __name__ == "__main__":
    main()
