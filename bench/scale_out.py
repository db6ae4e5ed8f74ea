"""Scale-out on one machine: two web hosts and three worker hosts, each in a Linux network
namespace of its own, against a PostgreSQL, a Redis, a Stripe fake (localstripe) and an SMTP
sink that this script starts on a services host (another namespace). The machine's own
PostgreSQL and Redis are not touched.

It drives returns through both web hosts (order import, request, approval, receipt),
SIGKILLs every process of one worker host mid-run, and then checks, from the outside:
every return is refunded, exactly once at the Stripe fake; every email the service meant to
send arrived, and at most one twice per killed worker host (counted by Message-ID).

    .venv/bin/python -m bench.scale_out --returns 40      # as root (ip netns); ~1 minute

On 2 cores this proves correctness across hosts, not speed: the figure it prints (returns
per second through the two web hosts) is for the record, not a target. It prints one JSON
object and exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mailbox
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NET = "10.231.7"  # the /24 the namespaces made here share; nothing outside them uses it
HOSTS = {"svc": 2, "web1": 11, "web2": 12, "worker1": 21, "worker2": 22, "worker3": 23,
         "client": 30}
SVC = f"{NET}.{HOSTS['svc']}"
STRIPE_KEY = "sk_test_scale_out"


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise SystemExit(f"PostgreSQL's {name} is not installed (Debian: postgresql)")
    return str(found[-1])


class Lab:
    """The namespaces, their processes, and cleaning all of it up."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.tag = uuid.uuid4().hex[:6]
        self.procs: dict[str, list[subprocess.Popen[bytes]]] = {}

    def ns(self, host: str) -> str:
        return f"rs-{self.tag}-{host}"

    # --- network --------------------------------------------------------------------------

    def build_network(self) -> None:
        """A bridge in a switch namespace; each host a veth into it, all on NET.0/24."""
        switch = self.ns("switch")
        run("ip", "netns", "add", switch)
        run("ip", "-n", switch, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", switch, "link", "set", "br0", "up")
        for host, octet in HOSTS.items():
            name = self.ns(host)
            run("ip", "netns", "add", name)
            run("ip", "link", "add", "eth0", "netns", name, "type", "veth", "peer", "name",
                f"p{octet}", "netns", switch)
            run("ip", "-n", switch, "link", "set", f"p{octet}", "master", "br0", "up")
            run("ip", "-n", name, "addr", "add", f"{NET}.{octet}/24", "dev", "eth0")
            run("ip", "-n", name, "link", "set", "eth0", "up")
            run("ip", "-n", name, "link", "set", "lo", "up")

    def teardown(self) -> None:
        for host in [*HOSTS, "switch"]:
            name = self.ns(host)
            pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True,
                                  text=True).stdout.split()
            _kill_all(pids)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)

    # --- processes ------------------------------------------------------------------------

    def start(self, host: str, command: list[str], env: dict[str, str] | None = None,
              user: str | None = None) -> subprocess.Popen[bytes]:
        prefix = ["ip", "netns", "exec", self.ns(host)]
        if user:
            prefix += ["runuser", "-u", user, "--"]
        log = (self.workdir / f"{host}.log").open("ab")
        proc = subprocess.Popen([*prefix, *command], cwd=ROOT, env=env or os.environ.copy(),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.setdefault(host, []).append(proc)
        return proc

    def exec(self, host: str, command: list[str], env: dict[str, str] | None = None) -> str:
        done = subprocess.run(["ip", "netns", "exec", self.ns(host), *command], cwd=ROOT,
                              env=env or os.environ.copy(), capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{command} on {host}: {done.stderr[-2000:]}")
        return done.stdout

    def kill_host(self, host: str) -> None:
        """Pull the plug: SIGKILL every process in the host's namespace."""
        pids = subprocess.run(["ip", "netns", "pids", self.ns(host)], capture_output=True,
                              text=True).stdout.split()
        _kill_all(pids)

    def wait_port(self, host: str, address: str, port: int, timeout: float = 60) -> None:
        probe = (f"import socket,time,sys\nend=time.time()+{timeout}\n"
                 f"while time.time()<end:\n"
                 f"  try: socket.create_connection(('{address}',{port}),1).close(); sys.exit(0)\n"
                 f"  except OSError: time.sleep(0.2)\nsys.exit(1)")
        self.exec(host, [sys.executable, "-c", probe])


def _kill_all(pids: list[str]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


# --- the services host ---------------------------------------------------------------------

def start_services(lab: Lab) -> Path:
    """PostgreSQL, Redis, localstripe and an SMTP sink on the services host. Returns the
    sink's Maildir."""
    data = lab.workdir / "pgdata"
    data.mkdir()
    shutil.chown(lab.workdir, "postgres")
    shutil.chown(data, "postgres")
    subprocess.run(["runuser", "-u", "postgres", "--", pg_bin("initdb"), "-D", str(data),
                    "-A", "trust", "-U", "postgres"], check=True, capture_output=True)
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host all all {NET}.0/24 trust\n")
    lab.start("svc", [pg_bin("postgres"), "-D", str(data), "-c", f"listen_addresses={SVC}",
                      "-c", "port=5432", "-c", f"unix_socket_directories={data}",
                      "-c", "fsync=off", "-c", "max_connections=200"], user="postgres")
    # Protected mode refuses every address but loopback; this Redis listens only inside the
    # namespaces made here.
    lab.start("svc", ["redis-server", "--bind", SVC, "--port", "6379", "--save", "",
                      "--appendonly", "no", "--protected-mode", "no"])
    lab.start("svc", [str(BIN / "localstripe"), "--port", "8420", "--from-scratch"],
              env={**os.environ, "PYTHONWARNINGS": "ignore"})
    maildir = lab.workdir / "maildir"
    lab.start("svc", [str(BIN / "aiosmtpd"), "-n", "-l", f"{SVC}:8025", "-c",
                      "aiosmtpd.handlers.Mailbox", str(maildir)])
    for port in (5432, 6379, 8420, 8025):
        lab.wait_port("client", SVC, port)
    lab.exec("client", [pg_bin("createdb"), "-h", SVC, "-U", "postgres", "returns"])
    return maildir


def app_env(host: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "REDIS_", "TEST_", "STRIPE_", "SMTP_"))}
    env.update(
        DATABASE_URL=f"postgresql://postgres@{SVC}:5432/returns",
        REDIS_URL=f"redis://{SVC}:6379/0", RQ_QUEUE="returns",
        SECRET_KEY="one secret for every host", PUBLIC_BASE_URL="http://returns.test",
        STRIPE_API_KEY=STRIPE_KEY, STRIPE_API_BASE=f"http://{SVC}:8420",
        SMTP_URL=f"smtp://{SVC}:8025", RETURN_ADDRESS="Returns, 1 Dock Road",
        LOG_LEVEL="WARNING", RATELIMIT_ENABLED="0", PYTHONWARNINGS="ignore",
        # A killed worker's claims are taken over quickly in this run (a real deployment
        # keeps the defaults; they only bound how soon work left by a dead worker resumes).
        REFUND_SUBMIT_LEASE_SECONDS="10", EMAIL_CLAIM_STALE_SECONDS="10",
        OUTBOX_STALE_SECONDS="10",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra)
    return env


# --- the run ----------------------------------------------------------------------------

DRIVER = r"""
import json, sys, time, urllib.request, urllib.error
import stripe

config = json.loads(sys.argv[1])
webs, tokens, n = config["webs"], config["tokens"], config["returns"]
client = stripe.StripeClient(config["stripe_key"], base_addresses={"api": config["stripe"]})

def call(web, method, path, role=None, body=None):
    req = urllib.request.Request(web + path, method=method, data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": "Bearer " + tokens[role]} if role else {})})
    for attempt in range(20):
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
        except OSError:
            time.sleep(0.5)
    raise SystemExit("web host unreachable")

def stage(label):
    print(json.dumps({"stage": label}), flush=True)

def one(i):
    web = webs[i % len(webs)]
    other = webs[(i + 1) % len(webs)]
    number = "S%04d" % i
    intent = client.v1.payment_intents.create(params={"amount": 10000, "currency": "eur",
        "payment_method": "pm_card_visa", "payment_method_types": ["card"], "confirm": True})
    order = {"number": number, "email": "c%d@example.com" % i, "customer_name": "C %d" % i,
             "currency": "EUR", "placed_at": "2026-11-20T10:00:00Z",
             "delivered_at": "2026-11-25T10:00:00Z", "channel": "web", "shipping_total": 0,
             "payment": {"provider": "stripe", "payment_intent": intent.id},
             "lines": [{"sku": "SHIRT", "name": "Shirt", "quantity": 1, "unit_price": 2500}]}
    assert call(web, "POST", "/api/v1/orders", "integration", order)[0] == 201
    status, ret = call(other, "POST", "/api/v1/returns", None, {
        "order_number": number, "email": "c%d@example.com" % i,
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert status == 201, ret
    rma = ret["rma"]
    assert call(web, "POST", "/api/v1/returns/%s/approve" % rma, "agent")[0] == 200
    status, body = call(other, "POST", "/api/v1/returns/%s/receive" % rma, "warehouse",
        {"items": [{"sku": "SHIRT", "quantity": 1, "condition": "resellable"}]})
    assert status == 200, body
    return {"rma": rma, "intent": intent.id}

from concurrent.futures import ThreadPoolExecutor
created = []
started = time.time()
with ThreadPoolExecutor(config["clients"]) as pool:
    for done in pool.map(one, range(n)):
        created.append(done)
        if len(created) == n // 2:
            stage("half")
driven = time.time() - started
stage("driven")
deadline = time.time() + config["settle_seconds"]
pending = list(created)
while pending and time.time() < deadline:
    pending = [c for c in pending if call(webs[0], "GET", "/api/v1/returns/" + c["rma"],
               "agent")[1]["status"] != "refunded"]
    if pending:
        time.sleep(1)
refunds = {c["rma"]: len(client.v1.refunds.list(params={"payment_intent": c["intent"],
           "limit": 10}).data) for c in created}
print(json.dumps({"result": {"driven_seconds": driven, "not_refunded": [c["rma"] for c in pending],
                             "refunds_per_return": refunds}}), flush=True)
"""


def drive(lab: Lab, tokens: dict[str, str], returns: int, on_half: Any) -> dict[str, Any]:
    config = {"webs": [f"http://{NET}.{HOSTS['web1']}:8000", f"http://{NET}.{HOSTS['web2']}:8000"],
              "tokens": tokens, "returns": returns, "stripe": f"http://{SVC}:8420",
              "stripe_key": STRIPE_KEY, "settle_seconds": 180, "clients": 8}
    proc = subprocess.Popen(["ip", "netns", "exec", lab.ns("client"), sys.executable, "-c",
                             DRIVER, json.dumps(config)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    result: dict[str, Any] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        message = json.loads(line)
        if message.get("stage") == "half":
            on_half()
        elif "result" in message:
            result = message["result"]
    proc.wait(timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"driver failed: {proc.stderr.read() if proc.stderr else ''}")
    return result


NOTIFICATIONS_SQL = r"""
import json, sys, psycopg
with psycopg.connect(sys.argv[1]) as conn:
    rows = conn.execute("SELECT status, message_id FROM notifications").fetchall()
print(json.dumps({"statuses": [r[0] for r in rows],
                  "sent_ids": [r[1] for r in rows if r[0] == "sent"]}))
"""


def notifications(lab: Lab) -> dict[str, Any]:
    """What the service recorded about its emails: each status, the Message-IDs it sent."""
    out = lab.exec("client", [sys.executable, "-c", NOTIFICATIONS_SQL,
                              f"postgresql://postgres@{SVC}:5432/returns"])
    return json.loads(out)


def emails(maildir: Path) -> Counter[str]:
    """Message-ID -> how many times it arrived."""
    box = mailbox.Maildir(str(maildir), create=False)
    return Counter(str(message["Message-ID"]) for message in box)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--returns", type=int, default=40)
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("needs root and iproute2 (ip netns)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="scale-out-"))
    lab = Lab(workdir)
    ok = False
    try:
        lab.build_network()
        maildir = start_services(lab)
        env = app_env("web1")
        lab.exec("web1", [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env)
        tokens = {}
        for role in ("integration", "agent", "warehouse"):
            lab.exec("web1", [str(BIN / "flask"), "--app", "wsgi", "users", "create",
                              f"{role}@shop.test", "--role", role, "--password",
                              "scale out password 2026"], env)
            tokens[role] = lab.exec("web1", [str(BIN / "flask"), "--app", "wsgi", "tokens",
                                             "create", f"{role}@shop.test"], env).strip()
        for web in ("web1", "web2"):
            lab.start(web, [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py",
                            "wsgi:app"], app_env(web, HOST=f"{NET}.{HOSTS[web]}", PORT="8000",
                                                 WEB_CONCURRENCY="2"))
        for worker in ("worker1", "worker2", "worker3"):
            lab.start(worker, [str(BIN / "flask"), "--app", "wsgi", "worker"], app_env(worker))
        lab.start("worker2", [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run",
                              "--every", "5"], app_env("worker2"))
        for web in ("web1", "web2"):
            lab.wait_port("client", f"{NET}.{HOSTS[web]}", 8000)
        killed: list[str] = []
        result = drive(lab, tokens, args.returns,
                       on_half=lambda: (lab.kill_host("worker1"), killed.append("worker1")))
        # The last emails: those of the last refunds, and one the killed host may have held
        # (taken over once its claim is stale).
        deadline = time.monotonic() + 90
        while True:
            recorded = notifications(lab)
            unsent = [s for s in recorded["statuses"] if s not in ("sent", "skipped")]
            if not unsent or time.monotonic() > deadline:
                break
            time.sleep(2)
        sent = emails(maildir)
        duplicates = sum(count - 1 for count in sent.values())
        lost = [m for m in recorded["sent_ids"] if m not in sent]
        refunds = result["refunds_per_return"]
        expected_emails = args.returns * 3  # approved, received, refunded (requested may be
        # skipped when the approval is already out)
        report = {
            "returns": args.returns,
            "web_hosts": 2, "worker_hosts": 3, "killed_worker_hosts": killed,
            "returns_per_second_through_both_web_hosts":
                round(args.returns / result["driven_seconds"], 2),
            "not_refunded": result["not_refunded"],
            "returns_refunded_exactly_once": sum(1 for n in refunds.values() if n == 1),
            "returns_refunded_more_than_once": sorted(r for r, n in refunds.items() if n > 1),
            "emails_distinct": len(sent), "emails_duplicated": duplicates,
            "emails_expected_at_least": expected_emails,
            "emails_recorded_sent": len(recorded["sent_ids"]),
            "emails_not_sent": unsent, "emails_recorded_but_not_received": lost,
        }
        report["emails_not_sent"] = dict(Counter(unsent))
        ok = (not report["not_refunded"] and not report["returns_refunded_more_than_once"]
              and report["returns_refunded_exactly_once"] == args.returns
              and len(sent) >= expected_emails and duplicates <= len(killed)
              and not unsent and not lost)
        report["ok"] = ok
        if not ok:
            report["logs"] = str(workdir)  # kept for a look: each host's output
        print(json.dumps(report, indent=2))
        return 0 if ok else 1
    finally:
        lab.teardown()
        if not ok:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
