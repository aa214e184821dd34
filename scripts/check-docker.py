#!/usr/bin/env python3
"""Checks docker/ against the code, since no Docker engine runs here.

  scripts/check-docker.py [BIN_DIR]      (default target/debug; needs PyYAML)

- docker/compose.yaml parses, and every `--flag` it passes to notary-coordinator or
  notary-worker (in `command` lists and in `sh -c` entrypoints) is listed by that binary's
  `--help` (or `keygen --help`);
- each Dockerfile builds and runs a binary that exists, with the workspace's Rust version;
- Prometheus scrapes the services and ports the compose file really exposes;
- every metric the Grafana dashboard queries is one the code defines.
Exits non-zero with a list of problems.
"""
import json
import pathlib
import re
import subprocess
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
bin_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "target" / "debug"
docker = root / "docker"
problems = []


def problem(msg):
    problems.append(msg)


help_cache = {}


def help_text(binary, sub=None):
    key = (binary, sub)
    if key not in help_cache:
        args = [str(bin_dir / binary)] + ([sub] if sub else []) + ["--help"]
        help_cache[key] = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return help_cache[key]


def check_flags(binary, tokens, where):
    sub = None
    if tokens and tokens[0] == "keygen":
        sub, tokens = "keygen", tokens[1:]
    text = help_text(binary, sub)
    known = set(re.findall(r"--[a-z0-9][a-z0-9-]*", text))
    for tok in tokens:
        if tok.startswith("--"):
            flag = tok.split("=", 1)[0]
            if flag not in known:
                problem(f"{where}: {binary}{' ' + sub if sub else ''} has no flag {flag}")


compose = yaml.safe_load((docker / "compose.yaml").read_text())
services = compose["services"]
binaries = {"notary-coordinator", "notary-worker"}

for name, svc in services.items():
    image = svc.get("image", "")
    entry = svc.get("entrypoint")
    command = svc.get("command")
    if image in binaries and entry is None:
        # The image's ENTRYPOINT is the binary; `command` is its arguments.
        check_flags(image, [str(c) for c in (command or [])], f"service {name}")
    # Binaries invoked inside shell entrypoints: flags up to the next shell separator.
    for text in entry if isinstance(entry, list) else ([entry] if entry else []):
        for m in re.finditer(r"(notary-coordinator|notary-worker)\s+([^;&|]*)", str(text)):
            tokens = m.group(2).replace('"', " ").split()
            check_flags(m.group(1), tokens, f"service {name} entrypoint")
            if m.group(1) == "notary-coordinator" and image == "notary-coordinator":
                check_flags("notary-coordinator", [str(c) for c in (command or [])], f"service {name}")
    for key in ("depends_on",):
        for dep in svc.get(key, {}) or {}:
            if dep not in services:
                problem(f"service {name} depends on unknown service {dep}")
    build = svc.get("build")
    if build:
        dockerfile = root / build["dockerfile"]
        if not dockerfile.exists():
            problem(f"service {name}: {dockerfile} missing")

rust_version = re.search(r'rust-version\s*=\s*"([0-9.]+)"', (root / "Cargo.toml").read_text()).group(1)
for dockerfile in sorted(docker.glob("Dockerfile.*")):
    text = dockerfile.read_text()
    binary = "notary-" + dockerfile.suffix.lstrip(".")
    if f"FROM rust:{rust_version}" not in text:
        problem(f"{dockerfile.name}: builder is not rust:{rust_version} (workspace rust-version)")
    if f"--bin {binary}" not in text or f'ENTRYPOINT ["{binary}"]' not in text:
        problem(f"{dockerfile.name}: does not build and run {binary}")
    if not (bin_dir / binary).exists():
        problem(f"{binary} is not a binary of this workspace (missing in {bin_dir})")
    if "\nUSER " not in text:
        problem(f"{dockerfile.name}: runs as root")

# Prometheus targets exist and match the ports the binaries are told to listen on.
prom = yaml.safe_load((docker / "prometheus" / "prometheus.yml").read_text())
listen_ports = {}
for name, svc in services.items():
    args = [str(c) for c in (svc.get("command") or [])]
    for flag in ("--listen", "--metrics-listen"):
        if flag in args:
            listen_ports.setdefault(name, set()).add(args[args.index(flag) + 1].rsplit(":", 1)[1])
for job in prom["scrape_configs"]:
    for sc in job.get("static_configs", []):
        for target in sc["targets"]:
            host, port = target.rsplit(":", 1)
            if port not in listen_ports.get(host, set()):
                problem(f"prometheus job {job['job_name']}: {target} is not a listening service")
    for sd in job.get("dns_sd_configs", []):
        for host in sd["names"]:
            if str(sd["port"]) not in listen_ports.get(host, set()):
                problem(f"prometheus job {job['job_name']}: {host}:{sd['port']} is not a listening service")

# The dashboard queries only metrics the code defines.
defined = set()
for src in ["coordinator/src/metrics.rs", "worker/src/metrics.rs"]:
    defined |= set(re.findall(r'"(notary_[a-z0-9_]+)"', (root / src).read_text()))
dashboard = json.loads((docker / "grafana" / "dashboards" / "notary.json").read_text())
used = set()
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        used |= set(re.findall(r"notary_[a-z0-9_]+", target["expr"]))
for metric in sorted(used):
    base = re.sub(r"_(bucket|count|sum)$", "", metric)
    if base not in defined:
        problem(f"dashboard queries {metric}, which no code defines")
if not used:
    problem("the dashboard queries nothing")

if problems:
    print("docker/ check failed:")
    for p in problems:
        print("  -", p)
    sys.exit(1)
print(f"docker/ check: {len(services)} services, {len(used)} dashboard metrics, all flags exist")
