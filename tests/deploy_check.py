#!/usr/bin/python3
"""Offline checks of deploy/ and docker-compose.yml, run by ctest (one test per check).

  deploy_check.py CHECK --source DIR [--ensolved BIN --cli BIN --fake-nvml DIR]

Checks:
  compose     docker-compose config -q for each profile
  kustomize   kubectl kustomize for every overlay and the adapter rule; what each renders
  promtool    promtool check config, check rules, test rules
  dashboard   the Grafana dashboard parses and uses the provisioned datasource
  metrics     every metric the dashboard, the alerts and the autoscaler rule name is served
              by a real ensolved on /metrics (started here, with a fake NVML for the GPU
              series) and the autoscaler's metric is the rule's
  manifests   flags, ports and the drain deadline of the Dockerfile, compose file and
              manifests agree with ensolved's own (ensolved --helpfull)
  dockerfile  the Dockerfile's stages, user, entrypoint, health check, labels, COPY sources
              and .dockerignore

A missing tool (docker-compose, kubectl, promtool) fails its check, naming the tool.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

OVERLAYS = ["deploy/k8s/overlays/gpu", "deploy/k8s/overlays/cpu"]
ADAPTER = "deploy/k8s/prometheus-adapter"
# Series Prometheus itself makes, not ensolved.
SYNTHETIC = {"up"}
# Least margin between the drain deadline and the time the platform waits before SIGKILL:
# after the deadline ensolved fails what is left and stops (~2 s).
DRAIN_MARGIN_S = 10


class CheckFailed(Exception):
    pass


def fail(msg):
    raise CheckFailed(msg)


def tool(name):
    path = shutil.which(name)
    if path is None:
        fail(f"{name} is not installed (scripts/install-deps.sh installs it); this check needs it")
    return path


def run(args, cwd, **kw):
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail(f"{' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def load_yaml_docs(text):
    return [d for d in yaml.safe_load_all(text) if d is not None]


def parse_duration(text):
    """absl / Go duration text ("45s", "5m", "1h30m", "0", "inf") in seconds."""
    text = text.strip().strip('"')
    if text in ("inf", "+inf"):
        return float("inf")
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text):
        if m.start() != pos:
            fail(f"bad duration {text!r}")
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        fail(f"bad duration {text!r}")
    return total


def rendered(src, path):
    return load_yaml_docs(run([tool("kubectl"), "kustomize", path], cwd=src))


def of_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def the(docs, kind):
    found = of_kind(docs, kind)
    if len(found) != 1:
        fail(f"expected one {kind}, found {len(found)}")
    return found[0]


def flag_args(args):
    """{"name": "value"} of ["--name=value", ...]."""
    out = {}
    for a in args:
        m = re.fullmatch(r"--([a-z_0-9]+)(?:=(.*))?", a)
        if m is None:
            fail(f"argument {a!r} is not a --flag=value")
        out[m.group(1)] = m.group(2) if m.group(2) is not None else "true"
    return out


def server_flags(ensolved):
    """ensolved's own flags and their defaults, from --helpfull."""
    text = subprocess.run([ensolved, "--helpfull"], capture_output=True, text=True).stdout
    start = re.search(r"Flags from (?:\S*server/flags\.cc|ensolved):\n", text)
    if start is None:
        fail("ensolved --helpfull lists no flags from server/flags.cc")
    section = text[start.end():]
    section = section[: section.find("\n\n")] if "\n\n" in section else section
    flags = {}
    for entry in re.split(r"\n    (?=--)", "\n" + section):
        m = re.match(r"\s*--([a-z_0-9]+) \(.*default: (.*);\s*$", entry, re.S)
        if m:
            flags[m.group(1)] = m.group(2).strip().strip('"')
    for name in ("address", "metrics_port", "drain_deadline", "devices", "max_connection_age"):
        if name not in flags:
            fail(f"--{name} missing from ensolved --helpfull")
    return flags


def port_of(address):
    # --address defaults to "" (ensolved then listens on 127.0.0.1 or 0.0.0.0, port 50051,
    # as its help says).
    if address == "":
        return 50051
    return int(address.rsplit(":", 1)[1])


# ---------------------------------------------------------------------------- the checks


def check_compose(a):
    compose = tool("docker-compose")
    for profile in ("gpu", "cpu"):
        run([compose, "--profile", profile, "config", "-q"], cwd=a.source)
    doc = yaml.safe_load(open(os.path.join(a.source, "docker-compose.yml")))
    gpu = doc["services"]["ensolved-gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    if not any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices):
        fail("ensolved-gpu reserves no NVIDIA GPU")
    if "cpu" not in doc["services"]["ensolved-cpu"].get("profiles", []):
        fail("ensolved-cpu is not in the cpu profile")
    for name in ("prometheus", "grafana"):
        if name not in doc["services"]:
            fail(f"the stack has no {name}")


def check_kustomize(a):
    for overlay in OVERLAYS:
        docs = rendered(a.source, overlay)
        kinds = sorted(d["kind"] for d in docs)
        want = sorted(["Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                       "PodMonitor", "NetworkPolicy"])
        if kinds != want:
            fail(f"{overlay} renders {kinds}, expected {want}")
        dep = the(docs, "Deployment")
        pod = dep["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if "grpc" not in c.get(probe, {}):
                fail(f"{overlay}: {probe} is not a gRPC health probe")
        startup = c["startupProbe"]
        if startup["periodSeconds"] * startup["failureThreshold"] < 60:
            fail(f"{overlay}: the startup probe allows less than 60 s of warm-up")
        sc = c["securityContext"]
        if not (sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
                and sc.get("runAsNonRoot") and sc.get("capabilities", {}).get("drop") == ["ALL"]):
            fail(f"{overlay}: container securityContext is not locked down: {sc}")
        if not pod["securityContext"].get("runAsNonRoot") or pod["securityContext"].get("runAsUser", 0) == 0:
            fail(f"{overlay}: pod may run as root")
        res = c["resources"]
        for part in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in res.get(part, {}):
                    fail(f"{overlay}: no {part}.{r}")
        args = flag_args(c["args"])
        if parse_duration(args.get("max_connection_age", "0")) <= 0:
            fail(f"{overlay}: --max_connection_age is not set")
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        gpu_limit = res["limits"].get("nvidia.com/gpu")
        tolerations = pod.get("tolerations", [])
        if overlay.endswith("gpu"):
            if str(gpu_limit) != "1" or env.get("ENSOLVE_DEVICES") != "gpu":
                fail(f"{overlay}: expected nvidia.com/gpu: 1 and ENSOLVE_DEVICES=gpu")
            if not any(t.get("key") == "nvidia.com/gpu" for t in tolerations):
                fail(f"{overlay}: no nvidia.com/gpu toleration")
        else:
            if gpu_limit is not None or env.get("ENSOLVE_DEVICES") != "cpu":
                fail(f"{overlay}: a CPU pod with a GPU limit or devices != cpu")
        svc = the(docs, "Service")
        if svc["spec"].get("clusterIP") != "None":
            fail(f"{overlay}: the Service is not headless")
        labels = dep["spec"]["template"]["metadata"]["labels"]
        for kind, selector in (("Service", svc["spec"]["selector"]),
                               ("PodDisruptionBudget", the(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]),
                               ("PodMonitor", the(docs, "PodMonitor")["spec"]["selector"]["matchLabels"]),
                               ("NetworkPolicy", the(docs, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"])):
            if not selector or any(labels.get(k) != v for k, v in selector.items()):
                fail(f"{overlay}: the {kind}'s selector {selector} does not select the pods {labels}")
        hpa = the(docs, "HorizontalPodAutoscaler")
        if hpa["spec"]["scaleTargetRef"]["name"] != dep["metadata"]["name"]:
            fail(f"{overlay}: the autoscaler scales something else")
    adapter = rendered(a.source, ADAPTER)
    cm = the(adapter, "ConfigMap")
    yaml.safe_load(cm["data"]["config.yaml"])["rules"]


def check_promtool(a):
    promtool = tool("promtool")
    run([promtool, "check", "config", "deploy/prometheus/prometheus.yml"], cwd=a.source)
    run([promtool, "check", "rules", "deploy/prometheus/alerts.yml"], cwd=a.source)
    run([promtool, "test", "rules", "alerts_test.yml"], cwd=os.path.join(a.source, "deploy/prometheus"))


def dashboard(a):
    with open(os.path.join(a.source, "deploy/grafana/dashboards/ensolve.json")) as f:
        return json.load(f)


def check_dashboard(a):
    d = dashboard(a)
    ds = yaml.safe_load(open(os.path.join(a.source, "deploy/grafana/provisioning/datasources/prometheus.yml")))
    uid = ds["datasources"][0]["uid"]
    titles = [p["title"] for p in d["panels"]]
    for want in ("Throughput", "Queue depth", "Queue wait", "Batch latency", "Device busy share",
                 "GPU memory", "Errors by code", "Trajectories by return code"):
        if want not in titles:
            fail(f"the dashboard has no {want!r} panel")
    for p in d["panels"]:
        if p["datasource"]["uid"] != uid or not p["targets"]:
            fail(f"panel {p['title']!r}: no query or not on the provisioned datasource {uid!r}")
        for t in p["targets"]:
            if not t.get("expr"):
                fail(f"panel {p['title']!r}: an empty query")
    ids = [p["id"] for p in d["panels"]]
    if len(set(ids)) != len(ids):
        fail("the dashboard's panel ids repeat")


PROMQL_FUNCTIONS = {
    "sum", "rate", "histogram_quantile", "clamp_min", "by", "le", "up", "label_values",
}


def metric_names(expr):
    """Metric names in a PromQL expression (ensolve_*, process_*, up)."""
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r'"[^"]*"', "", expr)
    return set(re.findall(r"\b((?:ensolve|process)_[a-z0-9_]+|up)\b", expr))


def used_metrics(a):
    """{metric: [where it is used]} over the dashboard, the alerts and the adapter rule."""
    used = {}

    def add(expr, where):
        for n in metric_names(expr):
            used.setdefault(n, []).append(where)

    d = dashboard(a)
    for p in d["panels"]:
        for t in p["targets"]:
            add(t["expr"], f"dashboard panel {p['title']!r}")
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        add(q["query"] if isinstance(q, dict) else str(q), f"dashboard variable {v['name']}")
    alerts = yaml.safe_load(open(os.path.join(a.source, "deploy/prometheus/alerts.yml")))
    for g in alerts["groups"]:
        for r in g["rules"]:
            add(r["expr"], f"alert {r['alert']}")
    rules = yaml.safe_load(open(os.path.join(a.source, ADAPTER, "rules.yaml")))["rules"]
    for r in rules:
        add(r["seriesQuery"], "adapter rule seriesQuery")
        add(r["metricsQuery"].replace("<<.LabelMatchers>>", "").replace("<<.GroupBy>>", "x"),
            "adapter rule metricsQuery")
    return used, rules


def wait_for_file(path, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and open(path).read().strip():
            return int(open(path).read())
        if proc.poll() is not None:
            fail(f"ensolved exited with {proc.returncode} at start")
        time.sleep(0.05)
    fail(f"ensolved wrote no {path}")


def check_metrics(a):
    used, rules = used_metrics(a)
    # The autoscaler asks for the metric the adapter rule makes.
    produced = {r["name"]["as"] for r in rules}
    for overlay in OVERLAYS:
        for m in the(rendered(a.source, overlay), "HorizontalPodAutoscaler")["spec"]["metrics"]:
            name = m["pods"]["metric"]["name"]
            if name not in produced:
                fail(f"{overlay}: the autoscaler's metric {name} is not one the adapter rule serves ({produced})")

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LD_LIBRARY_PATH=a.fake_nvml)
        log = open(os.path.join(tmp, "ensolved.log"), "w")
        proc = subprocess.Popen(
            [a.ensolved, "--address=127.0.0.1:0", f"--port_file={tmp}/port",
             "--metrics_host=127.0.0.1", "--metrics_port=0", f"--metrics_port_file={tmp}/mport",
             "--devices=cpu", "--threads=1"], env=env, stderr=log, stdout=log)
        try:
            port = wait_for_file(f"{tmp}/port", proc)
            mport = wait_for_file(f"{tmp}/mport", proc)
            # Some work, so that the labelled series exist.
            run([a.cli, f"--server=127.0.0.1:{port}", "solve", "server/models/lorenz.ode",
                 "-n", "200", "--t1", "1", "--sample", "uniform:seed=1:lo=0,0,0:hi=10,28,2.6"],
                cwd=a.source)
            with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
                text = r.read().decode()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    served = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            served.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    missing = {n: w for n, w in used.items() if n not in served and n not in SYNTHETIC}
    if missing:
        fail("not served by ensolved on /metrics:\n" +
             "\n".join(f"  {n}: used by {', '.join(sorted(set(w)))}" for n, w in sorted(missing.items())))
    for want in ("ensolve_build_info", "process_open_fds", "ensolve_gpu_memory_used_bytes",
                 "ensolve_request_duration_seconds_bucket", "ensolve_trajectories_total"):
        if want not in served:
            fail(f"ensolved does not serve {want}")
    print(f"{len(used)} metric names used, all among the {len(served)} ensolved serves")


def check_manifests(a):
    flags = server_flags(a.ensolved)
    default_grpc = port_of(flags["address"])
    default_metrics = int(flags["metrics_port"])
    default_drain = parse_duration(flags["drain_deadline"])

    def known(name, where):
        if name not in flags:
            fail(f"{where}: --{name} is not a flag of ensolved")

    def known_env(name, where):
        if name.startswith("ENSOLVE_"):
            known(name[len("ENSOLVE_"):].lower(), f"{where}: {name}")

    for overlay in OVERLAYS:
        docs = rendered(a.source, overlay)
        dep = the(docs, "Deployment")
        pod = dep["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        args = flag_args(c["args"])
        for name in args:
            known(name, overlay)
        for e in c.get("env", []):
            known_env(e["name"], overlay)
        grpc = port_of(args.get("address", flags["address"]))
        metrics = int(args.get("metrics_port", default_metrics))
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        if ports.get("grpc") != grpc or ports.get("metrics") != metrics:
            fail(f"{overlay}: container ports {ports} but ensolved listens on {grpc} and {metrics}")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if c[probe]["grpc"]["port"] != grpc:
                fail(f"{overlay}: {probe} asks port {c[probe]['grpc']['port']}, gRPC is on {grpc}")
        svc = the(docs, "Service")
        for p in svc["spec"]["ports"]:
            if p["targetPort"] not in ports:
                fail(f"{overlay}: Service port {p['name']} targets {p['targetPort']}, no such container port")
        for e in the(docs, "PodMonitor")["spec"]["podMetricsEndpoints"]:
            if e["port"] != "metrics":
                fail(f"{overlay}: the PodMonitor scrapes port {e['port']}")
        netpol_ports = {p["port"] for r in the(docs, "NetworkPolicy")["spec"]["ingress"] for p in r["ports"]}
        if netpol_ports != {"grpc", "metrics"}:
            fail(f"{overlay}: the NetworkPolicy admits {netpol_ports}")
        drain = parse_duration(args.get("drain_deadline", flags["drain_deadline"]))
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if grace < drain + DRAIN_MARGIN_S:
            fail(f"{overlay}: terminationGracePeriodSeconds {grace} is not above the drain deadline "
                 f"{drain:g} s + {DRAIN_MARGIN_S} s")
        print(f"{overlay}: grpc {grpc}, metrics {metrics}, drain {drain:g} s < grace {grace} s")

    # The drain deadline is set in one place: the base's args (overlays do not touch it).
    for overlay in OVERLAYS:
        for f in os.listdir(os.path.join(a.source, overlay)):
            if "drain" in open(os.path.join(a.source, overlay, f)).read():
                fail(f"{overlay}/{f} sets the drain deadline; only deploy/k8s/base may")

    compose = yaml.safe_load(open(os.path.join(a.source, "docker-compose.yml")))
    for name in ("ensolved-gpu", "ensolved-cpu"):
        s = compose["services"][name]
        for var in s.get("environment", {}):
            known_env(var, f"docker-compose.yml {name}")
        env_drain = s.get("environment", {}).get("ENSOLVE_DRAIN_DEADLINE")
        drain = parse_duration(env_drain) if env_drain else default_drain
        if parse_duration(s.get("stop_grace_period", "10s")) < drain + DRAIN_MARGIN_S:
            fail(f"docker-compose.yml {name}: stop_grace_period is not above the drain deadline")
        published = {int(p.split(":")[1]) for p in s["ports"]}
        if published != {default_grpc, default_metrics}:
            fail(f"docker-compose.yml {name}: ports {published}, ensolved's are {default_grpc}, {default_metrics}")
    prom = yaml.safe_load(open(os.path.join(a.source, "deploy/prometheus/prometheus.yml")))
    targets = [t for sc in prom["scrape_configs"] for c in sc["static_configs"] for t in c["targets"]]
    if targets != [f"ensolved:{default_metrics}"]:
        fail(f"prometheus.yml scrapes {targets}, ensolved serves on ensolved:{default_metrics}")

    docker = dockerfile(a)
    cmd = json.loads(docker["CMD"][-1])
    for name in flag_args(cmd):
        known(name, "Dockerfile CMD")
    cmd_flags = flag_args(cmd)
    grpc = port_of(cmd_flags.get("address", flags["address"]))
    metrics = int(cmd_flags.get("metrics_port", default_metrics))
    exposed = {int(p) for line in docker["EXPOSE"] for p in line.split()}
    if exposed != {grpc, metrics}:
        fail(f"Dockerfile EXPOSE {exposed}, CMD listens on {grpc} and {metrics}")
    if f"127.0.0.1:{grpc}" not in docker["HEALTHCHECK"][-1]:
        fail(f"the HEALTHCHECK does not ask port {grpc}")
    for line in docker["ENV"]:
        for var in re.findall(r"(ENSOLVE_[A-Z_]+)=", line):
            known_env(var, "Dockerfile ENV")


def dockerfile(a):
    """Dockerfile instructions, continuation lines joined: {INSTRUCTION: [arguments, ...]}."""
    text = open(os.path.join(a.source, "deploy/Dockerfile")).read()
    text = re.sub(r"\\\n", " ", text)
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.setdefault(word.upper(), []).append(rest.strip())
    return out


def check_dockerfile(a):
    d = dockerfile(a)
    args = {}
    for line in d.get("ARG", []):
        k, _, v = line.partition("=")
        args.setdefault(k, v)
    froms = [re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), f) for f in d["FROM"]]
    if len(froms) != 2 or not re.match(r"nvidia/cuda:\S+-devel-\S+ AS build$", froms[0]) or \
            not re.match(r"nvidia/cuda:\S+-runtime-\S+$", froms[1]):
        fail(f"expected FROM nvidia/cuda:*-devel-* AS build, then nvidia/cuda:*-runtime-*: {froms}")
    major = re.match(r"nvidia/cuda:(\d+)\.", froms[0]).group(1)
    if froms[1].split(":")[1].split(".")[0] != major:
        fail("the build and runtime stages use different CUDA majors")
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    if os.path.exists(nvcc):
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
        here = re.search(r"release (\d+)\.", out).group(1)
        if here != major:
            fail(f"the image builds with CUDA {major}, the toolkit here is CUDA {here}")
        print(f"CUDA {major} in the image, as the toolkit here")
    else:
        print("no CUDA toolkit here: the image's CUDA major is not compared")
    user = d["USER"][-1]
    if user.split(":")[0] in ("0", "root") or not user.split(":")[0].isdigit():
        fail(f"USER {user}: must be a numeric non-root user (Kubernetes' runAsNonRoot checks it)")
    for overlay in OVERLAYS:
        sc = the(rendered(a.source, overlay), "Deployment")["spec"]["template"]["spec"]["securityContext"]
        if str(sc["runAsUser"]) != user.split(":")[0]:
            fail(f"{overlay}: runAsUser {sc['runAsUser']}, the image's user is {user}")
    if json.loads(d["ENTRYPOINT"][-1]) != ["/usr/local/bin/ensolved"]:
        fail("the entrypoint is not ensolved")
    health = d["HEALTHCHECK"][-1]
    if not re.search(r'CMD \[.*"/usr/local/bin/ensolve".*"health"\]', health):
        fail(f"the HEALTHCHECK does not run `ensolve health`: {health}")
    labels = " ".join(d.get("LABEL", []))
    for key in ("org.opencontainers.image.version", "org.opencontainers.image.source",
                "org.opencontainers.image.revision"):
        if key not in labels:
            fail(f"no {key} label")
    for line in d["COPY"]:
        if line.startswith("--from="):
            continue
        for src in line.split()[:-1]:
            if src != "." and not os.path.exists(os.path.join(a.source, src)):
                fail(f"COPY {src}: no such path in the repository")
    ignore = [l.strip() for l in open(os.path.join(a.source, ".dockerignore")) if l.strip() and not l.startswith("#")]
    for must in ("build*/", ".git/"):
        if must not in ignore:
            fail(f".dockerignore does not exclude {must}")
    if not os.access(os.path.join(a.source, "deploy/build-stage.sh"), os.X_OK):
        fail("deploy/build-stage.sh is not executable")


CHECKS = {
    "compose": check_compose,
    "kustomize": check_kustomize,
    "promtool": check_promtool,
    "dashboard": check_dashboard,
    "metrics": check_metrics,
    "manifests": check_manifests,
    "dockerfile": check_dockerfile,
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("check", choices=sorted(CHECKS))
    p.add_argument("--source", required=True)
    p.add_argument("--ensolved")
    p.add_argument("--cli")
    p.add_argument("--fake-nvml", dest="fake_nvml")
    a = p.parse_args()
    try:
        CHECKS[a.check](a)
    except CheckFailed as e:
        print(f"deploy_check {a.check}: FAILED: {e}", file=sys.stderr)
        return 1
    print(f"deploy_check {a.check}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
