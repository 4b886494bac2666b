"""`cmake --install` puts ensolved and ensolve in <prefix>/bin and the Python package where
Debian's python3 finds it, and the installed package works against a real ensolved."""

import os
import subprocess
import sys

import pytest

BUILD_DIR = os.environ.get("TEST_BUILD_DIR")
PY_DIR = os.environ.get("TEST_PYTHON_INSTALL_DIR")


@pytest.mark.skipif(not BUILD_DIR or not PY_DIR, reason="run by ctest, which names the build")
def test_cmake_install_layout(server, tmp_path):
    prefix = tmp_path / "prefix"
    r = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", str(prefix)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for binary in ("ensolved", "ensolve"):
        v = subprocess.run([str(prefix / "bin" / binary), "--version"], capture_output=True,
                           text=True)
        assert v.returncode == 0 and v.stdout.startswith(f"{binary} 0.1.0 ("), v
    site = prefix / PY_DIR
    assert (site / "ensolve" / "__init__.py").exists()
    assert (site / "ensolve" / "v1" / "solver_pb2.py").exists()
    # /usr/local/lib/python3.X/dist-packages is on Debian's python3 path: the same layout
    # under this prefix, found through PYTHONPATH alone (no source or build tree).
    code = ("import ensolve, sys; s = ensolve.Client(sys.argv[1]).solve(ensolve.LORENZ, n=3, "
            "tspan=(0, 1)); print(ensolve.__file__, s.u.shape)")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", code, server.target], capture_output=True,
                         text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(str(site)) and "(3, 1, 3)" in out.stdout
    local = subprocess.run([sys.executable, "-c", "import sys; print(sys.path)"],
                           capture_output=True, text=True)
    assert f"/usr/local/{PY_DIR}" in local.stdout
