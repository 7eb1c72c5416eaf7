"""Issue intake over HTTP: POST /api/v1/issues under gunicorn (2 workers), 8 concurrent clients,
beside the floor (bench/floor_app.py: a bare Flask + SQLAlchemy endpoint inserting one row)
measured the same way in the same run. Target: >= 50 % of the floor's requests/s, p95 <= 30 ms.

    .venv/bin/python bench/issue_intake.py [--seconds 10] [--clients 8] [--no-pg]

Besides requests/s and latency it prints the CPU the gunicorn processes spent per request
(PostgreSQL's own server processes not included), which a busy machine disturbs far less, and
the whole machine's CPU per request (clients, workers and PostgreSQL together): with the two
cores saturated, the requests/s ratio follows the ratio of that figure, and other work on the
machine inflates it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_cpu, make_app, percentile, scratch_databases

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str) -> tuple[str, int]:
    """Organisation, an agent with a token, a customer, reference data. Returns (token, id)."""
    from app.auth.services import create_user
    from app.auth.tokens import issue_token
    from app.customers.services import create_customer
    from app.extensions import db
    from app.issues.reference import ensure_reference_data
    from app.org.services import create_office, create_region

    app = make_app(url)
    with app.app_context():
        create_region(code="EAST", name="华东", actor=None)
        create_office(code="SH", name="上海", region_code="EAST", actor=None)
        agent = create_user(
            email="bench@example.com",
            name="压测坐席",
            role="agent",
            password="bench-password",
            office_code="SH",
        )
        ensure_reference_data()
        customer = create_customer(
            actor=agent, name="压测客户", office_code=None, phones=["13800000000"]
        )
        _, token = issue_token(agent)
        db.session.commit()
        customer_id = customer.id
        db.engine.dispose()
    return token, customer_id


def serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [GUNICORN, "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{target} did not start")


def processes_cpu(match: Callable[[int, int, str], bool]) -> float:
    """CPU seconds used so far by the processes `match(pid, ppid, command name)` picks (Linux
    /proc; 0 where there is none)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if match(int(entry.name), int(fields[1]), comm):
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def server_cpu(proc: subprocess.Popen[bytes]) -> float:
    """CPU seconds used so far by the gunicorn master and its workers. Read before and after
    the timed load: the difference divided by the requests is the server's CPU per request,
    which a busy machine disturbs far less than requests per second."""
    return processes_cpu(lambda pid, ppid, _comm: proc.pid in (pid, ppid))


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL server processes."""
    return processes_cpu(lambda _pid, _ppid, comm: comm == "postgres")


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=20)


def load(
    port: int,
    path: str,
    body: dict[str, object],
    headers: dict[str, str],
    seconds: float,
    clients: int,
    timeout: float = 10,
) -> tuple[float, list[float], int]:
    payload = json.dumps(body).encode()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine: list[float] = []
        while time.perf_counter() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            started = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    path,
                    body=payload,
                    headers={"Content-Type": "application/json", **headers},
                )
                response = conn.getresponse()
                response.read()
            except OSError:  # a timeout counts as an error; the client goes on
                response = None
            finally:
                conn.close()
            if response is None or response.status != 201:
                with lock:
                    errors[0] += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies, errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    print(f"issue intake, gunicorn 2 workers, {args.clients} clients, {args.seconds:.0f} s each")
    with scratch_databases(include_pg=not args.no_pg) as urls:
        for label, url in urls:
            token, customer_id = prepare(url)
            floor_url = url.replace("bench.db", "floor.db") if label == "sqlite" else url
            floor, floor_port = serve("bench.floor_app:app", {"FLOOR_DATABASE_URL": floor_url})
            try:
                load(floor_port, "/floor", {"title": "warm-up"}, {}, 1, 2, timeout=120)
                before, machine_before, db_before = server_cpu(floor), machine_cpu(), postgres_cpu()
                f_rps, f_lat, f_err = load(
                    floor_port, "/floor", {"title": "来电"}, {}, args.seconds, args.clients
                )
                f_requests = max(1, len(f_lat) + f_err)
                f_cpu = (server_cpu(floor) - before) / f_requests * 1000
                f_all = (machine_cpu() - machine_before) / f_requests * 1000
                f_db = (postgres_cpu() - db_before) / f_requests * 1000
            finally:
                stop(floor)
            env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": "0"}
            server, port = serve("app.wsgi:app", env)
            body = {
                "customer_id": customer_id,
                "title": "设备无法开机",
                "channel": "hotline",
                "category": "product_quality",
                "priority": "high",
                "description": "客户来电：设备通电后无反应",
            }
            headers = {"Authorization": f"Bearer {token}"}
            try:
                load(port, "/api/v1/issues", body, headers, 1, 2, timeout=120)
                before, machine_before, db_before = (
                    server_cpu(server),
                    machine_cpu(),
                    postgres_cpu(),
                )
                a_rps, a_lat, a_err = load(
                    port, "/api/v1/issues", body, headers, args.seconds, args.clients
                )
                a_requests = max(1, len(a_lat) + a_err)
                a_cpu = (server_cpu(server) - before) / a_requests * 1000
                a_all = (machine_cpu() - machine_before) / a_requests * 1000
                a_db = (postgres_cpu() - db_before) / a_requests * 1000
            finally:
                stop(server)
            if not f_lat or not a_lat:
                print(f"{label:<11} no request answered 201 (errors {f_err} / {a_err})")
                continue
            print(
                f"{label:<11} floor (bare insert)     {f_rps:7.1f} req/s  p50 "
                f"{percentile(f_lat, 50):6.1f} ms  p95 {percentile(f_lat, 95):6.1f} ms  "
                f"errors {f_err}   CPU/req: server {f_cpu:.2f} ms  postgres {f_db:.2f} ms  "
                f"machine {f_all:.2f} ms"
            )
            print(
                f"{label:<11} POST /api/v1/issues     {a_rps:7.1f} req/s  p50 "
                f"{percentile(a_lat, 50):6.1f} ms  p95 {percentile(a_lat, 95):6.1f} ms  "
                f"errors {a_err}   CPU/req: server {a_cpu:.2f} ms  postgres {a_db:.2f} ms  "
                f"machine {a_all:.2f} ms   "
                f"= {a_rps / f_rps:.0%} of the floor"
            )


if __name__ == "__main__":
    main()
