"""The Python client against a real ensolved: values, dtypes, streaming, samplers,
xarray, and every documented error as an EnsolveError with its code and message."""

import os
import socket
import subprocess
import time

import grpc
import numpy as np
import pytest

import ensolve
from conftest import ENSOLVE_CLI, Server

BOX = ([0, 0, 0], [10, 28, 8 / 3])


def test_seed_example_in_three_lines(server):
    p = np.random.default_rng(0).random((200, 3)) * (10, 28, 8 / 3)
    sol = ensolve.Client(server.target).solve(ensolve.LORENZ, p=p, tspan=(0, 100), saveat=1.0)
    assert sol.u.shape == (200, 101, 3) and sol.u.dtype == np.float64
    np.testing.assert_array_equal(sol.t, np.arange(101.0))
    assert sol.retcode.dtype == np.uint8 and (sol.retcode == 0).all()
    assert sol.state_names == ["x", "y", "z"]
    np.testing.assert_array_equal(sol.u[:, 0], np.tile([1.0, 0, 0], (200, 1)))
    np.testing.assert_array_equal(sol.p, p)  # the inputs used come back with the result
    assert (sol.accepted_steps > 0).all() and (sol.rejected_steps >= 0).all()
    assert sol.summary["retcode_counts"] == {"success": 200}
    assert "200 succeeded, 0 failed" in repr(sol)


def run_cli(server, *args):
    return subprocess.run([ENSOLVE_CLI, f"--server={server.target}", *args],
                          capture_output=True, text=True)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_values_equal_the_cpp_client_bitwise(server, client, lorenz_path, tmp_path, precision):
    p = np.random.default_rng(1).random((300, 3)) * (10, 28, 8 / 3)
    np.save(tmp_path / "p.npy", p)
    out = tmp_path / "u.npy"
    r = run_cli(server, "solve", lorenz_path, f"--params={tmp_path / 'p.npy'}", "--t1=10",
                "--saveat=0:0.5:10", f"--precision={precision}", "--batch_size=70", f"-o={out}")
    assert r.returncode == 0, r.stderr
    cli = np.load(out)
    sol = client.solve(lorenz_path, p=p, tspan=(0, 10), saveat=0.5, precision=precision)
    assert sol.u.dtype == np.dtype(precision) and cli.dtype == np.dtype(precision)
    assert sol.u.shape == cli.shape == (300, 21, 3)
    bits = np.uint32 if precision == "float32" else np.uint64
    np.testing.assert_array_equal(sol.u.view(bits), cli.view(bits))


def test_server_sampler_equals_the_cli_and_ignores_batching(server, client, lorenz_path, tmp_path):
    out = tmp_path / "u.npy"
    r = run_cli(server, "solve", lorenz_path, "--sample=uniform:seed=5:lo=0,0,0:hi=10,28,2.5",
                "-n", "250", "--t1=5", "--saveat=0:1:5", f"-o={out}")
    assert r.returncode == 0, r.stderr
    sampler = ensolve.uniform([0, 0, 0], [10, 28, 2.5], seed=5)
    a = client.solve(lorenz_path, p=sampler, n=250, tspan=(0, 5), saveat=1.0, batch_size=40)
    b = client.solve(lorenz_path, p=sampler, n=250, tspan=(0, 5), saveat=1.0)
    np.testing.assert_array_equal(a.u.view(np.uint64), np.load(out).view(np.uint64))
    np.testing.assert_array_equal(a.u.view(np.uint64), b.u.view(np.uint64))


def test_float32_and_float64(client):
    for precision, dtype in (("float32", np.float32), (np.float64, np.float64)):
        sol = client.solve(ensolve.LORENZ, n=4, tspan=(0, 1), saveat=[0.5, 1.0],
                           precision=precision)
        assert sol.u.dtype == dtype and sol.u.shape == (4, 2, 3)
        assert np.isfinite(sol.u).all()


def test_stream_yields_chunks_covering_every_trajectory(client):
    stream = client.solve_stream(ensolve.LORENZ, p=ensolve.uniform(*BOX, seed=2), n=500,
                                 tspan=(0, 2), saveat=1.0, batch_size=100)
    assert stream.accepted.trajectories == 500
    seen = np.zeros(500, dtype=int)
    for chunk in stream:
        assert chunk.u.shape == (chunk.count, 3, 3)
        assert chunk.retcode.shape == (chunk.count,)
        seen[chunk.first:chunk.first + chunk.count] += 1
    assert (seen == 1).all()
    assert stream.summary.trajectories == 500


def test_grid_sampler_and_params_by_name(client):
    sol = client.solve(ensolve.LORENZ, p=ensolve.grid([10, 0, 8 / 3], [10, 20, 8 / 3], [1, 5, 1]),
                       tspan=(0, 1))
    assert sol.u.shape == (5, 1, 3)
    by_name = client.solve(ensolve.LORENZ, p={"rho": np.linspace(0, 20, 5)}, tspan=(0, 1))
    np.testing.assert_array_equal(by_name.u, sol.u)
    np.testing.assert_array_equal(by_name.p[:, 1], np.linspace(0, 20, 5))
    np.testing.assert_array_equal(by_name.p[:, 0], 10)
    with pytest.raises(ValueError, match="gamma not in the model's parameters"):
        client.solve(ensolve.LORENZ, p={"gamma": 1}, tspan=(0, 1))


def test_failed_trajectories_say_how_far_they_got(client):
    sol = client.solve(ensolve.LORENZ, p=[[10, 28, 8 / 3], [10, 0.5, 8 / 3]], tspan=(0, 50),
                       saveat=10.0, max_steps=300)
    assert sol.retcode.tolist() == [ensolve.RETCODES["max_steps"], 0]
    assert sol.num_failed == 1 and sol.ok.tolist() == [False, True]
    assert sol.retcode_names() == ["max_steps", "success"]
    assert sol.t_final.dtype == np.float64 and sol.t_final[1] == 50
    assert 0 < sol.t_final[0] < 50
    reached = sol.t <= sol.t_final[0]
    assert np.isfinite(sol.u[0, reached]).all() and np.isnan(sol.u[0, ~reached]).all()
    assert (sol.rhs_evals > sol.accepted_steps).all()


BALL = """state h = 45, v = 0
param g = 10, e = 1
h' = v
v' = -g
when h crosses 0 down: v = -e*v
when h - 40 crosses 0 up: terminate
"""


def test_events_fired_and_termination(client):
    # Restitution 1 rises back past 40 m and terminates at t = 5; 0.5 bounces at 3 and 6.
    sol = client.solve(BALL, p=[[10, 1.0], [10, 0.5]], tspan=(0, 7), algorithm="tsit5",
                       adaptive=False, dt=0.01)
    assert sol.events_fired.dtype == np.int32
    assert sol.events_fired.tolist() == [2, 2]
    assert sol.retcode_names() == ["terminated", "success"]
    assert abs(sol.t_final[0] - 5) < 1e-9 and sol.t_final[1] == 7
    assert client.solve("state u = 1\nu' = -u\n", tspan=(0, 1), n=1).events_fired is None


def test_to_xarray(client):
    xr = pytest.importorskip("xarray")
    sol = client.solve(ensolve.LORENZ, p=ensolve.uniform(*BOX, seed=3), n=6, tspan=(0, 2),
                       saveat=[0, 1, 2])
    ds = sol.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["u"].dims == ("trajectory", "time", "state")
    assert list(ds["state"].values) == ["x", "y", "z"]
    np.testing.assert_array_equal(ds["u"].sel(state="z").values, sol.u[:, :, 2])
    np.testing.assert_array_equal(ds["retcode"].values, sol.retcode)


def test_compile_and_solve_by_model_id(client):
    model = client.compile(ensolve.LORENZ)
    assert model.param_names == ["sigma", "rho", "beta"] and len(model.model_id) == 64
    sol = client.solve(model, n=2, tspan=(0, 1))
    assert sol.model_id == model.model_id


# -- every documented error surfaces as EnsolveError(code, message) -----------------------

def expect(code, match, fn, *args, **kwargs):
    with pytest.raises(ensolve.EnsolveError) as e:
        fn(*args, **kwargs)
    assert e.value.code == code, e.value
    assert match in e.value.message, e.value.message
    assert code.name in str(e.value)
    return e.value


def test_bad_model_is_invalid_argument_with_position(client):
    bad = "state x = 1\nx' = 2 $ x\n"
    expect(grpc.StatusCode.INVALID_ARGUMENT, "line 2", client.solve, bad, n=1, tspan=(0, 1))
    e = expect(grpc.StatusCode.INVALID_ARGUMENT, "line 2", client.compile, bad)
    assert e.context == "    x' = 2 $ x\n           ^"
    e = expect(grpc.StatusCode.INVALID_ARGUMENT, "line 3, column 8", client.solve,
               "state x = 1\nparam k = 2\nx' = -2k*x\n", tspan=(0, 1))
    assert "hint: multiplication is written out: x' = -2*k*x" in str(e)
    e = expect(grpc.StatusCode.INVALID_ARGUMENT, "line 2", client.solve,
               "state x = 1\nx' = x**2\n", tspan=(0, 1))
    assert e.context.endswith("hint: powers are written x^2 (not x**2)")


def test_bad_options_are_invalid_argument(client):
    expect(grpc.StatusCode.INVALID_ARGUMENT, "algorithm", client.solve, ensolve.LORENZ,
           n=1, tspan=(0, 1), algorithm="nope")
    expect(grpc.StatusCode.INVALID_ARGUMENT, "params", client.solve, ensolve.LORENZ,
           p=np.ones((2, 5)), tspan=(0, 1))


def test_unknown_model_id_is_not_found(client):
    ghost = ensolve.Model("0" * 64, [], [], [], [], [], [])
    expect(grpc.StatusCode.NOT_FOUND, "0" * 16, client.solve, ghost, n=1, tspan=(0, 1))


def test_over_the_limits_is_resource_exhausted():
    small = Server("--max_trajectories=100")
    try:
        with ensolve.Client(small.target) as c:
            expect(grpc.StatusCode.RESOURCE_EXHAUSTED, "100", c.solve, ensolve.LORENZ, n=101,
                   tspan=(0, 1))
    finally:
        small.stop()


def test_no_server_is_unavailable():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ensolve.Client(f"127.0.0.1:{port}") as c:
        expect(grpc.StatusCode.UNAVAILABLE, "", c.solve, ensolve.LORENZ, n=1, tspan=(0, 1),
               timeout=5)
        expect(grpc.StatusCode.UNAVAILABLE, "", c.info, timeout=5)


def test_draining_server_is_unavailable():
    draining = Server("--drain_deadline=20s", "--stream_buffer_batches=1")
    try:
        with ensolve.Client(draining.target) as c:
            # A job held open: its stream is not read, so backpressure keeps it running.
            held = c.solve_stream(ensolve.LORENZ, p=ensolve.uniform(*BOX, seed=1), n=200000,
                                  tspan=(0, 100), saveat=1.0, batch_size=500)
            draining.proc.terminate()  # SIGTERM: drain
            deadline = time.monotonic() + 10
            while True:
                try:
                    c.solve(ensolve.LORENZ, n=1, tspan=(0, 1))
                except ensolve.EnsolveError as e:
                    assert e.code == grpc.StatusCode.UNAVAILABLE, e
                    assert "draining" in e.message
                    break
                assert time.monotonic() < deadline, "the server never refused new work"
                time.sleep(0.05)
            held.cancel()
    finally:
        draining.stop()


def test_timeout_is_deadline_exceeded(client):
    expect(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline", client.solve, ensolve.LORENZ,
           p=ensolve.uniform(*BOX, seed=1), n=200000, tspan=(0, 100), saveat=1.0,
           timeout=0.2)


def test_cancelled_stream_is_cancelled(client):
    stream = client.solve_stream(ensolve.LORENZ, p=ensolve.uniform(*BOX, seed=1), n=100000,
                                 tspan=(0, 100), batch_size=1000)
    stream.cancel()
    e = expect(grpc.StatusCode.CANCELLED, "", list, stream)
    assert e.message


def test_client_side_mistakes_are_python_errors(client):
    with pytest.raises(TypeError, match="unexpected keyword argument 'tol'"):
        client.solve(ensolve.LORENZ, tspan=(0, 1), tol=1e-3)
    with pytest.raises(ValueError, match="tspan"):
        client.solve(ensolve.LORENZ, saveat=1.0)
    with pytest.raises(ValueError, match="precision"):
        client.solve(ensolve.LORENZ, tspan=(0, 1), precision="float16")


def test_cli_reads_fortran_big_endian_npy_and_npz_by_key(server, client, lorenz_path, tmp_path):
    p = np.random.default_rng(4).random((40, 3)) * (10, 28, 8 / 3)
    fortran_be = np.asfortranarray(p).astype(">f8")
    assert fortran_be.flags.f_contiguous and fortran_be.dtype.byteorder == ">"
    np.save(tmp_path / "fbe.npy", fortran_be)
    np.savez(tmp_path / "in.npz", other=np.zeros(3), sweep=p)
    want = client.solve(lorenz_path, p=p, tspan=(0, 2), saveat=1.0).u
    for spec in ("fbe.npy", "in.npz:sweep"):
        out = tmp_path / f"u-{spec.replace(':', '-')}.npy"
        r = run_cli(server, "solve", lorenz_path, f"--params={tmp_path / spec}", "--saveat=0:1:2",
                    f"-o={out}")
        assert r.returncode == 0, r.stderr
        np.testing.assert_array_equal(np.load(out).view(np.uint64), want.view(np.uint64))
    r = run_cli(server, "solve", lorenz_path, f"--params={tmp_path / 'in.npz'}", "--saveat=0:1:2")
    assert r.returncode == 2 and "holds 2 arrays (other, sweep): say which" in r.stderr


class FakeTqdm:
    """Stands in for tqdm.tqdm (Debian's python3-tqdm may not be installed)."""
    bars = []

    def __init__(self, total, **kwargs):
        self.total, self.n, self.closed = total, 0, False
        FakeTqdm.bars.append(self)

    def update(self, k):
        self.n += k

    def close(self):
        self.closed = True


def test_progress_bar_uses_tqdm_when_asked_or_on_a_terminal(client, monkeypatch):
    import sys
    import types
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    FakeTqdm.bars.clear()
    kwargs = dict(p=ensolve.uniform(*BOX, seed=1), n=300, tspan=(0, 1), batch_size=100)
    client.solve(ensolve.LORENZ, **kwargs)  # stdout is not a terminal here: no bar
    assert FakeTqdm.bars == []
    client.solve(ensolve.LORENZ, progress=True, **kwargs)
    assert len(FakeTqdm.bars) == 1
    bar = FakeTqdm.bars[0]
    assert bar.total == 300 and bar.n == 300 and bar.closed
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    client.solve(ensolve.LORENZ, **kwargs)
    assert len(FakeTqdm.bars) == 2
    client.solve(ensolve.LORENZ, progress=False, **kwargs)
    assert len(FakeTqdm.bars) == 2


def test_save_and_load_match_the_clis_npz(server, client, lorenz_path, tmp_path):
    p = np.random.default_rng(6).random((20, 3)) * (10, 28, 8 / 3)
    np.save(tmp_path / "p.npy", p)
    r = run_cli(server, "solve", lorenz_path, f"--params={tmp_path / 'p.npy'}", "--saveat=0:1:3",
                f"-o={tmp_path / 'cli.npz'}")
    assert r.returncode == 0, r.stderr
    sol = client.solve(lorenz_path, p={"sigma": p[:, 0], "rho": p[:, 1], "beta": p[:, 2]},
                       tspan=(0, 3), saveat=1.0, return_inputs=True)  # as the CLI's .npz
    assert sol.param_names == ["sigma", "rho", "beta"]
    sol.save(tmp_path / "py.npz")
    cli, py = ensolve.load(tmp_path / "cli.npz"), ensolve.load(tmp_path / "py.npz")
    with np.load(tmp_path / "cli.npz") as a, np.load(tmp_path / "py.npz") as b:
        assert sorted(a.files) == sorted(b.files)
    for loaded in (cli, py):
        np.testing.assert_array_equal(loaded.u.view(np.uint64), sol.u.view(np.uint64))
        np.testing.assert_array_equal(loaded.t_final, sol.t_final)
        np.testing.assert_array_equal(loaded.p, p)
        np.testing.assert_array_equal(loaded.u0, np.tile([1.0, 0, 0], (20, 1)))
        assert loaded.state_names == ["x", "y", "z"]
        assert loaded.param_names == ["sigma", "rho", "beta"]


def test_sampled_inputs_come_back_and_reproduce_the_solve(server, client, lorenz_path, tmp_path):
    sampler = ensolve.uniform([0, 0, 0], [10, 28, 2.5], seed=9)
    sol = client.solve(lorenz_path, p=sampler, n=64, tspan=(0, 2), saveat=1.0, batch_size=20)
    assert sol.p.shape == (64, 3) and sol.u0.shape == (64, 3)
    assert ((sol.p >= 0) & (sol.p < [10, 28, 2.5])).all()
    np.testing.assert_array_equal(sol.u0, np.tile([1.0, 0, 0], (64, 1)))
    again = client.solve(lorenz_path, p=sol.p, tspan=(0, 2), saveat=1.0)
    np.testing.assert_array_equal(again.u.view(np.uint64), sol.u.view(np.uint64))
    assert client.solve(lorenz_path, p=sampler, n=4, tspan=(0, 1), return_inputs=False).p is None
    # The CLI's .npz holds the same draws.
    out = tmp_path / "s.npz"
    r = run_cli(server, "solve", lorenz_path, "--sample=uniform:seed=9:lo=0,0,0:hi=10,28,2.5",
                "-n", "64", "--saveat=0:1:2", f"-o={out}")
    assert r.returncode == 0, r.stderr
    with np.load(out) as z:
        np.testing.assert_array_equal(z["p"], sol.p)
        np.testing.assert_array_equal(z["u0"], sol.u0)


def test_output_selection_is_a_slice_of_the_full_output(server, client, lorenz_path, tmp_path):
    p = ensolve.uniform(*BOX, seed=10)
    full = client.solve(lorenz_path, p=p, n=30, tspan=(0, 3), saveat=0.5)
    some = client.solve(lorenz_path, p=p, n=30, tspan=(0, 3), saveat=0.5,
                        outputs=["z", "energy"])
    assert some.state_names == ["z", "energy"] and some.u.shape == (30, 7, 2)
    np.testing.assert_array_equal(some.u[:, :, 0].view(np.uint64), full.u[:, :, 2].view(np.uint64))
    np.testing.assert_allclose(some.u[:, :, 1], 0.5 * (full.u ** 2).sum(axis=2), rtol=1e-12)
    out = tmp_path / "o.npz"
    r = run_cli(server, "solve", lorenz_path, "--sample=uniform:seed=10:lo=0,0,0:hi=10,28,"
                f"{8 / 3!r}", "-n", "30", "--saveat=0:0.5:3", "--outputs=z,energy", f"-o={out}")
    assert r.returncode == 0, r.stderr
    with np.load(out) as z:
        assert list(z["state_names"]) == ["z", "energy"]
        np.testing.assert_array_equal(z["u"].view(np.uint64), some.u.view(np.uint64))


@pytest.mark.parametrize("algorithm", ["tsit5", "rodas5p"])
def test_per_trajectory_spans_equal_separate_solves_bitwise(client, lorenz_path, algorithm):
    rng = np.random.default_rng(11)
    n = 12
    p = rng.random((n, 3)) * (10, 28, 8 / 3)
    t0 = rng.uniform(-1, 1, n)
    t1 = t0 + np.where(np.arange(n) % 3 == 2, -1, 1) * rng.uniform(0.5, 2, n)  # some backward
    frac = np.sort(rng.random((n, 4)), axis=1)
    saveat = t0[:, None] + frac * (t1 - t0)[:, None]
    sol = client.solve(lorenz_path, p=p, tspan=(t0, t1), saveat=saveat, algorithm=algorithm)
    assert sol.t.shape == (n, 4) and sol.u.shape == (n, 4, 3)
    np.testing.assert_array_equal(sol.t, saveat)
    np.testing.assert_array_equal(sol.t_final, t1)
    final = client.solve(lorenz_path, p=p, tspan=(t0, t1), algorithm=algorithm)
    np.testing.assert_array_equal(final.t, t1[:, None])  # the final state, at its own t1
    for k in range(n):
        one = client.solve(lorenz_path, p=p[k], n=1, tspan=(t0[k], t1[k]), saveat=saveat[k],
                           algorithm=algorithm)
        np.testing.assert_array_equal(sol.u[k].view(np.uint64), one.u[0].view(np.uint64))
        alone = client.solve(lorenz_path, p=p[k], n=1, tspan=(t0[k], t1[k]), algorithm=algorithm)
        np.testing.assert_array_equal(final.u[k].view(np.uint64), alone.u[0].view(np.uint64))
    ds = sol.to_xarray()
    assert ds["time"].dims == ("trajectory", "save")


def test_per_trajectory_span_errors_name_the_trajectory(client, lorenz_path):
    with pytest.raises(ensolve.EnsolveError) as e:
        client.solve(lorenz_path, n=2, tspan=(0, [1.0, 2.0]), saveat=[[0.5], [2.5]])
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "trajectory 1: saveat[0]: 2.5 is outside [t0, t1] = [0, 2]" in e.value.message
    with pytest.raises(ValueError, match="a step needs one shared tspan"):
        client.solve(lorenz_path, n=2, tspan=(0, [1.0, 2.0]), saveat=0.1)


def test_bearer_token_for_a_server_with_tokens(tmp_path, lorenz_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("secret-a alice\n")
    s = Server(f"--tokens_file={tokens}")
    try:
        with ensolve.Client(s.target) as anonymous:
            with pytest.raises(ensolve.EnsolveError) as e:
                anonymous.info()
            assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
            assert "needs a bearer token" in str(e.value)
        with ensolve.Client(s.target, token="secret-a") as alice:
            assert alice.info().serving
            sol = alice.solve(lorenz_path, p=ensolve.uniform(*BOX, seed=3), n=2, tspan=(0, 1))
            assert sol.u.shape[0] == 2
        env = dict(os.environ, ENSOLVE_TOKEN="secret-a")
        r = subprocess.run([ENSOLVE_CLI, "info", f"--server={s.target}"], capture_output=True,
                           text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([ENSOLVE_CLI, "info", f"--server={s.target}", "--token=wrong"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "unknown bearer token" in r.stderr
    finally:
        s.stop()


GBM = "state x = 0.5\nparam mu = 1, sigma = 1\nx' = mu*x\nnoise x = sigma*x\n"


@pytest.mark.parametrize("algorithm", ["em", "siea"])
def test_sde_seed_reproduces_paths_for_any_batching(client, algorithm):
    kwargs = dict(n=400, tspan=(0, 1), saveat=0.25, algorithm=algorithm, dt=1 / 64)
    a = client.solve(GBM, seed=11, batch_size=400, **kwargs)
    b = client.solve(GBM, seed=11, batch_size=37, **kwargs)
    c = client.solve(GBM, seed=12, **kwargs)
    assert a.u.shape == (400, 5, 1)
    assert np.array_equal(a.u, b.u)  # bitwise, whatever the batching
    assert not np.any(a.u[:, -1] == c.u[:, -1])
    assert abs(a.u[:, -1, 0].mean() - 0.5 * np.e) < 0.3  # 400 paths: about 4 standard errors
    with pytest.raises(ValueError, match="seed"):
        client.solve(GBM, seed=-1, **kwargs)
    expect(grpc.StatusCode.INVALID_ARGUMENT, "SDE method", client.solve, ensolve.LORENZ,
           n=1, tspan=(0, 1), algorithm=algorithm, dt=0.1)
