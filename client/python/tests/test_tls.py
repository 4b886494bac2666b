"""TLS and mutual TLS from Python against a real ensolved, with certificates openssl makes
for the test."""
import os
import subprocess
import tempfile

import numpy as np
import pytest

import ensolve
from conftest import Server


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="ensolve_pki_")
    script = """set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=ensolved
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
  -days 2 -extfile san.ext
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=alice
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
"""
    subprocess.run(["bash", "-c", script], cwd=d, check=True, capture_output=True)
    return lambda name: os.path.join(d, name)


def test_tls_and_mutual_tls(pki):
    s = Server(f"--tls_cert={pki('server.pem')}", f"--tls_key={pki('server.key')}",
               f"--tls_client_ca={pki('ca.pem')}")
    try:
        with ensolve.Client(s.target, tls_ca=pki("ca.pem"), tls_cert=pki("client.pem"),
                            tls_key=pki("client.key")) as c:
            sol = c.solve(ensolve.LORENZ, p=np.array([[10, 28, 8 / 3]]), tspan=(0, 1), n=2)
            assert sol.u.shape == (2, 1, 3)
        # Without a client certificate the handshake fails: UNAVAILABLE, not a result.
        with ensolve.Client(s.target, tls_ca=pki("ca.pem")) as c:
            with pytest.raises(ensolve.EnsolveError) as e:
                c.solve(ensolve.LORENZ, p=np.array([[10, 28, 8 / 3]]), tspan=(0, 1), n=2, timeout=10)
            assert e.value.code.name == "UNAVAILABLE"
    finally:
        s.stop()


def test_a_certificate_needs_its_key():
    with pytest.raises(ValueError, match="tls_cert and tls_key: give both or neither"):
        ensolve.Client("127.0.0.1:1", tls_cert="client.pem")
