#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/model, fuzz/corpus/request).

Model seeds: byte 0 picks the algorithm, byte 1 precision and step mode (model_fuzzer.cc),
the rest is a model of docs/model-language.md or engine/testing/. Request seeds: text-format
SolveRequests encoded with `protoc --encode`. Run from anywhere; the outputs are committed.
"""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODELS = {
    "lorenz": open(os.path.join(ROOT, "server/models/lorenz.ode")).read(),
    "lorenz_let_output": """# Lorenz
state x = 1, y = 0, z = 0
param sigma = 10, rho = 28, beta = 8/3
let d = y - x
x' = sigma*d
y' = x*(rho - z) - y
z' = x*y - beta*z
output energy = 0.5*(x^2 + y^2 + z^2)
""",
    "robertson": """# Robertson
state y1 = 1, y2 = 0, y3 = 0
param k1 = 0.04, k2 = 3e7, k3 = 1e4
y1' = -k1*y1 + k3*y2*y3
y2' = k1*y1 - k2*y2^2 - k3*y2*y3
y3' = k2*y2^2
""",
    "gbm": """# Geometric Brownian motion, diagonal noise
state x = 0.1
param mu = 1.5, sigma = 0.01
x' = mu*x
noise x = sigma*x
""",
    "wiener": """state x = 1, y = 0
param a = 0.5, b = 1.5
wiener W1, W2
x' = -x
y' = x - y
noise x = a*x*dW1 + b*dW2
noise y = -dW2
""",
    "ball": """state h = 45, v = 0
param g = 10, e = 0.9
h' = v
v' = -g
when h crosses 0 down: v = -e*v, h = 0     # a bounce
at t = 2.4, 4: g = g + 1                   # kicks at given times
when h - 100 crosses 0: terminate          # ends the trajectory
""",
    "functions": """param th0 = 1, k = 2, a = 2, b = a^2
state th = th0, w = 0
let s = sin(th) + cos(w)*exp(-t) - atan2(th, 1 + w^2)
th' = w
w' = -k*s + ifelse(th > 0 && w <= 1, sqrt(abs(th)), -log(1 + th^2)) + max(a,
       b)*floor(t) - pi
output kin = 0.5*w^2
""",
}
# (algorithm byte, mode byte) per model (engine/algorithms/table.h order): tsit5, rodas4
# (Jacobian, df/dt), trbdf2 fixed-step, kvaerno3 float32; SDE models fall back to em.
MODES = [(2, 0), (7, 0), (12, 2), (10, 1)]

REQUESTS = {
    "decay": """model_source: "state x = 2\\nparam k = 0.5\\nx' = -k*x\\n"
trajectories: 25001
options { t1: 1 }
""",
    "saveat_range": """model_source: "state x = 1, y = 0, z = 0\\nparam sigma = 10, rho = 28, beta = 8/3\\nx' = sigma*(y - x)\\ny' = x*(rho - z) - y\\nz' = x*y - beta*z\\n"
trajectories: 100
options { algorithm: "vern9" t0: 0 t1: 10 abstol: 1e-8 reltol: 1e-8 saveat { range { start: 0 stop: 10 step: 0.5 } } }
outputs: "x"
batch_size: 7
""",
    "fixed_step": """model_source: "state x = 2\\nparam k = 0.5\\nx' = -k*x\\n"
trajectories: 3
options { algorithm: "rk4" adaptive: false dt: 0.01 t1: 2 max_steps: 1000 saveat { times: 0.5 times: 1 times: 2 } }
""",
    "params_tensor": """model_source: "state x = 2\\nparam k = 0.5, m\\nx' = -k*x + m\\n"
trajectories: 2
options { t1: 1 }
params { values { dtype: DTYPE_FLOAT64 shape: 2 shape: 2 data: "\\000\\000\\000\\000\\000\\000\\360?\\000\\000\\000\\000\\000\\000\\000@\\000\\000\\000\\000\\000\\000\\010@\\000\\000\\000\\000\\000\\000\\020@" } }
return_inputs: true
""",
    "sampler": """model_source: "state x = 1\\nparam k\\nx' = -k*x\\n"
trajectories: 1000
options { t1: 1 }
params { sampler { seed: 3 uniform { lo: 0 hi: 2 } } }
""",
    "sde": """model_source: "state x = 0.1\\nparam mu = 1.5, sigma = 0.01\\nx' = mu*x\\nnoise x = sigma*x\\n"
trajectories: 10
seed: 42
options { algorithm: "em" adaptive: false dt: 0.01 t1: 1 }
""",
    "sensitivities": """model_source: "state x = 2\\nparam k = 0.5\\nx' = -k*x\\n"
trajectories: 1
sensitivities: "k"
options { algorithm: "rodas5p" t1: 1 }
""",
    "reductions": """model_source: "state x = 2\\nparam k = 0.5\\nx' = -k*x\\n"
trajectories: 100
options { t1: 1 saveat { times: 0.5 times: 1 } }
reductions { statistics: STATISTIC_MEAN statistics: STATISTIC_HISTOGRAM keep_states: true
  histogram_edges { dtype: DTYPE_FLOAT64 shape: 2 data: "\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\360?" } }
""",
    "per_trajectory_span": """model_source: "state x = 2\\nparam k = 0.5\\nx' = -k*x\\n"
trajectories: 2
t1 { dtype: DTYPE_FLOAT64 shape: 2 data: "\\000\\000\\000\\000\\000\\000\\360?\\000\\000\\000\\000\\000\\000\\000@" }
request_id: "span"
""",
    "grid_events": """model_source: "state h = 45, v = 0\\nparam g = 10, e = 0.9\\nh' = v\\nv' = -g\\nwhen h crosses 0 down: v = -e*v\\noutput speed = abs(v)\\n"
options { t1: 5 saveat { range { start: 0 stop: 5 step: 1 } } }
params { sampler { grid { lo: 5 lo: 0.5 hi: 15 hi: 1 points: 3 points: 4 } } }
outputs: "speed"
first_trajectory: 2
""",
    "raw_kernel": """raw_kernel { cuda_source: "__device__ void ModelRhs(R t, const R* u, const R* p, R* du) { du[0] = -p[0] * u[0]; }"
  states: "x" params: "k" state_defaults: 2 param_defaults: 0.5 }
trajectories: 4
outputs: "x"
options { algorithm: "vern7" t1: 1 }
""",
}


def main():
    model_dir = os.path.join(ROOT, "fuzz/corpus/model")
    request_dir = os.path.join(ROOT, "fuzz/corpus/request")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(request_dir, exist_ok=True)
    for name, text in MODELS.items():
        for alg, mode in MODES:
            with open(os.path.join(model_dir, f"{name}_{alg}_{mode}"), "wb") as f:
                f.write(bytes([alg, mode]) + text.encode())
    for name, text in REQUESTS.items():
        encoded = subprocess.run(
            ["protoc", "-I", os.path.join(ROOT, "proto"), "--encode=ensolve.v1.SolveRequest",
             os.path.join(ROOT, "proto/ensolve/v1/solver.proto")],
            input=text.encode(), check=True, capture_output=True).stdout
        with open(os.path.join(request_dir, name), "wb") as f:
            f.write(encoded)


if __name__ == "__main__":
    main()
