"""Every example in examples/ runs against a real ensolved: the seed ensemble from Python,
C++ and the CLI gives bitwise the same states, and the bifurcation diagram is a valid PNG."""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ENSOLVE_CLI, SOURCE_DIR

EXAMPLES = os.path.join(SOURCE_DIR, "examples")
EXAMPLE_CPP = os.environ.get("TEST_EXAMPLE_CPP",
                             os.path.join(SOURCE_DIR, "build/examples/ensolve_example_lorenz"))


def run(argv, **kwargs):
    env = dict(os.environ, PATH=os.path.dirname(ENSOLVE_CLI) + os.pathsep + os.environ["PATH"])
    r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, **kwargs)
    assert r.returncode == 0, f"{argv}: {r.stdout}\n{r.stderr}"
    return r


def test_seed_ensemble_from_python_cpp_and_cli_is_the_same(server, tmp_path):
    py = run([sys.executable, os.path.join(EXAMPLES, "lorenz.py"), server.target,
              str(tmp_path / "py.npy")])
    assert "10000 trajectories x 101 save points x 3 states" in py.stdout
    assert "10000 succeeded, 0 failed" in py.stdout
    cpp = run([EXAMPLE_CPP, server.target, str(tmp_path / "cpp.npy")])
    assert "10000 trajectories x 101 save points x 3 states; 10000 succeeded" in cpp.stdout
    cli = run([os.path.join(EXAMPLES, "lorenz_cli.sh"), server.target, str(tmp_path / "cli.npz")])
    assert "return codes: success=10000" in cli.stdout

    u_py = np.load(tmp_path / "py.npy")
    u_cpp = np.load(tmp_path / "cpp.npy")
    with np.load(tmp_path / "cli.npz") as z:
        u_cli = z["u"]
        np.testing.assert_array_equal(z["t"], np.arange(101.0))
        assert (z["retcode"] == 0).all()
        assert list(z["state_names"]) == ["x", "y", "z"]
        assert list(z["param_names"]) == ["sigma", "rho", "beta"]
    assert u_py.shape == u_cpp.shape == u_cli.shape == (10000, 101, 3)
    np.testing.assert_array_equal(u_py.view(np.uint64), u_cpp.view(np.uint64))
    np.testing.assert_array_equal(u_py.view(np.uint64), u_cli.view(np.uint64))


def test_bifurcation_diagram_is_a_valid_png(server, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    out = tmp_path / "bifurcation.png"
    r = run([sys.executable, os.path.join(EXAMPLES, "bifurcation.py"), server.target, str(out)])
    assert "600 trajectories" in r.stdout and f"wrote {out}" in r.stdout
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(str(out))
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600
    # Not a blank canvas: the diagram's dots darken a good share of the plot area.
    dark = (pixels[..., :3].mean(axis=2) < 0.5).mean()
    assert dark > 0.01, dark
