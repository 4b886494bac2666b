"""Fixtures: a real ensolved on 127.0.0.1 (port 0, CPU, 2 threads) started once per session,
and the paths of the binaries the build made (TEST_ENSOLVED, TEST_ENSOLVE_CLI, set by ctest)."""

import os
import subprocess
import tempfile
import time

import pytest

import ensolve

SOURCE_DIR = os.environ.get("TEST_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "../../..")))
ENSOLVED = os.environ.get("TEST_ENSOLVED", os.path.join(SOURCE_DIR, "build/server/ensolved"))
ENSOLVE_CLI = os.environ.get("TEST_ENSOLVE_CLI", os.path.join(SOURCE_DIR, "build/client/ensolve"))


class Server:
    """ensolved as a child process; `target` is its loopback address."""

    def __init__(self, *flags):
        self.dir = tempfile.mkdtemp(prefix="ensolve_pytest_")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "ensolved.log"), "w")
        self.proc = subprocess.Popen(
            [ENSOLVED, "--address=127.0.0.1:0", f"--port_file={port_file}", "--metrics_port=-1",
             "--devices=cpu", "--threads=2", *flags], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"ensolved exited: {open(self.log.name).read()}")
            time.sleep(0.05)
        else:
            raise RuntimeError("ensolved did not write its port")
        self.port = int(open(port_file).read())
        self.target = f"127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def client(server):
    with ensolve.Client(server.target) as c:
        yield c


@pytest.fixture(scope="session")
def lorenz_path():
    return os.path.join(SOURCE_DIR, "server/models/lorenz.ode")
