"""The one table of ``make bench`` and bench/RESULTS.md (used by bench/run.py).

RESULTS.md keeps hand-written notes: only what lies between the two marker
lines below is replaced by a run, so that the analysis written beside the
figures survives the next ``make bench``.
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
START = "<!-- make bench: generated from here -->"
END = "<!-- make bench: generated up to here -->"
QUEUE = [("first page", "queue: first page", 50), ("deep page", "queue: deep page", 50),
         ("filtered page", "queue: filtered first page", 50),
         ("filtered deep page", "queue: filtered deep page", 50),
         ("overdue, by due", "queue: overdue, by due", 50),
         ("free text", "queue: free text, common term", 300),
         ("free text, rare", "queue: free text, rarer term", 300)]
DASHBOARD = [("dashboard, 30 days (ms)", "dashboard, 30 days", 300),
             ("dashboard, 365 days (ms)", "dashboard, 365 days", 300),
             ("monthly report (ms)", "monthly report (HTML + XLSX)", 3000),
             ("one chart, drawn (ms)", "one dashboard chart, drawn", None),
             ("refresh one day (ms)", "roll-up refresh of one day", None),
             ("roll-up rebuild (s)", "roll-up rebuild, every day (s)", None)]


def _command(*args: str) -> str:
    try:
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=30,
                              check=False).stdout.strip()
    except OSError:
        return ""


def machine(postgres: str | None) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8")
    kib = int(next(line.split()[1] for line in meminfo.splitlines()
                   if line.startswith("MemTotal")))
    release = Path("/etc/os-release")
    system = next((line.split("=", 1)[1].strip('"') for line in release.read_text(
        encoding="utf-8").splitlines() if line.startswith("PRETTY_NAME=")),
        platform.system()) if release.exists() else platform.system()
    commit = _command("git", "rev-parse", "--short", "HEAD") or "unknown"
    if _command("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    postgres_version = None
    if postgres:
        from sqlalchemy import create_engine, text

        engine = create_engine(postgres)
        with engine.connect() as connection:
            postgres_version = connection.scalar(text("SHOW server_version"))
        engine.dispose()
    wrk = shutil.which("wrk")
    return {
        "date": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{model}, {os.cpu_count()} cores", "memory": f"{kib / 1024 / 1024:.1f} GiB",
        "system": f"{system}, Linux {platform.release()}", "commit": commit,
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "gunicorn": _command(str(Path(sys.executable).parent / "gunicorn"), "--version"),
        "wrk": _command("wrk", "--version").splitlines()[0] if wrk else "not installed",
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    return text + unit


def _cpu(found: dict[str, Any]) -> str:
    return f"; workers' CPU {found['cpu_ms']:.2f} ms/req" if "cpu_ms" in found else ""


def _row(figure: str, backend: str, aim: str, value: str, by_size: str, ratio: str,
         met: bool | None) -> list[str]:
    return [figure, backend, aim, value, by_size, ratio,
            "—" if met is None else ("yes" if met else "**no**")]


def _sized(results: dict[str, Any], part: str, backend: str, sizes: list[int],
           pick: Callable[[dict[str, Any]], float | None]) -> list[float | None]:
    found = []
    for size in sizes:
        entry = results.get(part, {}).get(f"{backend}:{size}") or {}
        found.append(None if "failed" in entry or not entry else pick(entry))
    return found


def _growth(values: list[float | None]) -> float | None:
    if len(values) < 2 or values[0] in (None, 0) or values[-1] is None:
        return None
    return float(values[-1]) / float(values[0])  # type: ignore[arg-type]


def _last_step(values: list[float | None]) -> float | None:
    """Growth over the last step of sizes: "flat" is judged there, as at the smallest
    size the filters match too few clues to reach the counts' cap."""
    return _growth(values[-2:]) if len(values) >= 2 else None


def table(results: dict[str, Any]) -> dict[str, list[str]]:
    """The rows of the one table, as Markdown (printed as is, and written to RESULTS.md)."""
    sizes: list[int] = results["sizes"]
    span = sizes[-1] / sizes[0] if len(sizes) > 1 else 1
    grow = " → ".join(_size(s) for s in sizes)
    rows: list[list[str]] = []
    why: list[str] = []
    intake = results.get("intake", {})
    if "missing" in intake:
        rows.append(_row("intake", "—", "", f"not measured: {intake['missing']}", "", "", None))
    for backend, found in intake.items():
        if not isinstance(found, dict) or "ping" not in found:
            continue
        ping = found["ping"]
        rows.append(_row(f"intake ceiling: GET /bench/ping ({found['workers']}×"
                         f"{found['threads']}, {found['connections']} conn.)", backend, "",
                         f"{ping['rps']:,.0f} req/s", f"p50 {ping['p50_ms']:.1f} / p99 "
                         f"{ping['p99_ms']:.1f} ms{_cpu(ping)}", "", None))
        if "write" in found:
            row = found["write"]
            rows.append(_row("intake floor: POST /bench/write (one row, committed)", backend,
                             "", f"{row['rps']:,.0f} req/s", f"p50 {row['p50_ms']:.1f} / p99 "
                             f"{row['p99_ms']:.1f} ms{_cpu(row)}", f"{row['ratio']:.1%}",
                             None))
        for mode, name, share in (("api", "intake: POST /api/v1/clues", 0.40),
                                  ("form", "intake: POST /report (form)", 0.30)):
            row = found[mode]
            errors = f", {row['errors']} errors" if row["errors"] else ""
            cpu_share = f" (CPU {row['cpu_ratio']:.1%})" if "cpu_ratio" in row else ""
            met = row["ratio"] >= share and row["p99_ms"] < 100 and not row["errors"]
            rows.append(_row(name, backend, f"≥ {share:.0%} of ceiling, p99 < 100 ms",
                             f"{row['rps']:,.0f} req/s{errors}",
                             f"p50 {row['p50_ms']:.1f} / p99 {row['p99_ms']:.1f} ms{_cpu(row)}",
                             f"{row['ratio']:.1%}{cpu_share}", met))
            if not met:
                why.append(_intake_why(name, backend, found, row, share))
    for backend in results["backends"]:
        values = _sized(results, "data", backend, sizes, lambda e: e.get("seconds"))
        if any(v is not None for v in values):
            growth = _growth(values)
            rows.append(_row("demo-data --clues N (s), whole command", backend,
                             "< 180 s at 1M", _num(values[-1], " s"),
                             " → ".join(_num(v) for v in values),
                             f"×{growth:.1f} for ×{span:.0f}" if growth else "",
                             values[-1] is not None and values[-1] < 180))
            for key, name in (("bulk_seconds", "of which bulk rows (s)"),
                              ("rollup_seconds", "of which daily roll-ups (s)")):
                part = _sized(results, "data", backend, sizes, lambda e, k=key: e.get(k))
                rows.append(_row(name, backend, "", _num(part[-1], " s"),
                                 " → ".join(_num(v) for v in part), "", None))
        for key, name, limit in QUEUE:
            values = _sized(results, "queue", backend, sizes,
                            lambda e, k=key: (e.get(k) or [None])[0])
            if all(v is None for v in values):
                continue
            growth, step = _growth(values), _last_step(values)
            flat = limit == 50
            met = values[-1] is not None and values[-1] < limit and (
                not flat or step is None or step <= 2)
            rows.append(_row(name + " (median ms)", backend,
                             f"< {limit} ms" + (", flat (last step ≤ ×2)" if flat else ""),
                             _num(values[-1]), " → ".join(_num(v) for v in values),
                             f"×{growth:.1f} (last ×{step:.1f})" if growth and step else "",
                             met))
        for key, name, limit in DASHBOARD:
            values = _sized(results, "dashboard", backend, sizes, lambda e, k=key: e.get(k))
            if all(v is None for v in values):
                continue
            growth = _growth(values)
            met = None if limit is None else (
                values[-1] is not None and values[-1] < limit
                and (growth is None or growth <= span))
            # ≤ linear: no more than the clues grew (×100 from 10k to 1M).
            rows.append(_row(name + ("" if name.endswith("(s)") else " (median ms)"), backend,
                             f"< {limit:,} ms, ≤ linear" if limit else "", _num(values[-1]),
                             " → ".join(_num(v) for v in values),
                             f"×{growth:.1f}" if growth else "", met))
        plans = results.get("explain", {}).get(backend)
        if plans:
            scans = [name for name, found in plans.items() if found.get("full_scans")]
            rows.append(_row(f"query plans at {_size(sizes[-1])} (bench/explain.py)", backend,
                             "no full scan of a large table", f"{len(scans)} of {len(plans)} "
                             "scenarios scan", ", ".join(scans)[:120], "", not scans))
    for entry in results.get("hotline", []):
        rows.append(_row(f"hotline import ({entry['rows']:,} rows, {entry['workers']} workers)",
                         entry["backend"], "≥ 5,000 rows/s",
                         f"{entry['rows_per_s']:,.0f} rows/s", "", "",
                         entry["rows_per_s"] >= 5000))
    for entry in results.get("upload", []):
        ratio = entry["upload_rss"] / entry["bytes"]
        rows.append(_row(f"upload of a {entry['bytes'] / 2**20:.1f} MiB {entry['kind']}: "
                         "peak RSS over idle", "sqlite", "< 2× the file",
                         f"{entry['upload_rss'] / 2**20:.1f} MiB",
                         f"download {entry['download_rss'] / 2**20:.1f} MiB", f"×{ratio:.2f}",
                         ratio < 2))
    header = ["figure", "db", "aim", f"value at {_size(sizes[-1])}", f"by size ({grow})",
              "ratio", "met"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if why:
        lines += ["", "Why an aim is not met, from this run's own figures:", "",
                  *[f"- {reason}" for reason in why]]
    return {"text": lines}


def _intake_why(name: str, backend: str, found: dict[str, Any], row: dict[str, Any],
                share: float) -> str:
    """The reason an intake aim is missed, in the run's own numbers."""
    ping, write = found["ping"], found.get("write")
    parts = [f"{name} ({backend}): it takes {row['cpu_ms']:.2f} ms of worker CPU per "
             f"request against the ceiling's {ping['cpu_ms']:.2f} ms, so even with the "
             f"cores to itself it could reach {row.get('cpu_ratio', 0):.0%} of the ceiling "
             f"(aim {share:.0%})"]
    if write:
        parts.append(f"storing one row and committing it, with no validation and no "
                     f"sealing (POST /bench/write), already costs {write['cpu_ms']:.2f} ms "
                     f"and reaches {write['ratio']:.0%}")
    connections = found["connections"]
    parts.append(f"{connections} connections that each send again as soon as they are "
                 f"answered wait {connections} / rate on average (Little's law), so p99 "
                 f"< 100 ms needs more than {connections * 10:,} req/s "
                 f"({row['rps']:,.0f} measured)")
    return "; ".join(parts) + "."


def write_results(path: Path, info: dict[str, Any], results: dict[str, Any],
                  rows: dict[str, list[str]]) -> None:
    sizes = ", ".join(f"{s:,}" for s in results["sizes"])
    runs = results.get("runs") or [{"parts": ["all"], "date": info["date"],
                                     "minutes": round(info["minutes"], 1),
                                     "load": f"{info['load_before']} → {info['load_after']}",
                                     "commit": info["commit"]}]
    generated = [
        START,
        f"Measured by `make bench` (bench/run.py); sizes {sizes} clues; databases: "
        f"{', '.join(results['backends'])}.",
        "",
        f"- Machine: {info['cpu']}, {info['memory']} memory; {info['system']}.",
        *[f"- {', '.join(run['parts'])}: started {run['date']}, {run['minutes']} minutes, "
          f"load average (1, 5, 15 min) {run['load']}, commit {run['commit']}." for run in runs],
        "- On this 2-core machine a load average above 2 means that other work shared the "
        "cores with the benchmarks.",
        f"- Python {info['python']}, SQLite {info['sqlite']}, PostgreSQL "
        f"{info['postgresql'] or 'not measured'}, {info['gunicorn'] or 'gunicorn'}, "
        f"{info['wrk']}.",
        "",
        *rows["text"],
        "",
        "Ratio: for intake the share of the ceiling's rate (in brackets: the ceiling's CPU "
        "time per request over the target's, the share an idle machine would allow); "
        "for a figure measured at several "
        "sizes, how much it grew from the smallest size to the largest (and over the last "
        "step, where the queue's \"flat\" is judged); for the upload, the peak over the "
        "file's size. \"≤ linear\": grew no more than the number of clues.",
    ]
    plans = results.get("explain", {})
    if plans:
        backends = list(plans)
        generated += ["", f"Query plans at {results['sizes'][-1]:,} clues (bench/explain.py; "
                      "median ms of 5 runs, and the large tables read whole):", "",
                      "| scenario | " + " | ".join(f"{b} ms | {b} full scans" for b in backends)
                      + " |", "|---|" + "---|---|" * len(backends)]
        for name in plans[backends[0]]:
            cells = []
            for backend in backends:
                found = plans[backend].get(name, {})
                cells += [_num(found.get("median_ms")),
                          ", ".join(found.get("full_scans", [])) or "—"]
            generated.append(f"| {name} | " + " | ".join(cells) + " |")
    generated.append(END)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in old and END in old:
        before, rest = old.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + "\n".join(generated) + after
    else:
        text = ("# Benchmark results\n\nWritten by `make bench`; the part between the marker "
                "lines is replaced by each run, the rest is kept.\n\n"
                + "\n".join(generated) + "\n" + old)
    path.write_text(text, encoding="utf-8")
