"""Dependency audit: pip-audit on the project's virtualenv, failing on fixable vulnerabilities.

Run as ``.venv/bin/python .ci/pip_audit.py`` (``make audit``; ``.ci/run`` calls it).

- A known vulnerability with a fixed version: listed, exit 1 (upgrade the pin).
- A known vulnerability without a fix yet: listed as a warning, exit 0.
- No access to the advisory database (pip-audit asks PyPI's JSON API per
  release; a mirror that serves only the package index answers "not found"
  for every package, and pip-audit itself then exits 0 having audited
  nothing): "pip-audit: skipped: no access to advisory database", exit 0 on a
  developer's machine, exit 1 with CI=true, unless JIDU_AUDIT_OFFLINE=skip
  says that this CI has no such access either.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

NO_ACCESS = "skipped: no access to advisory database"


def audit() -> tuple[dict | None, str]:
    """pip-audit's JSON report of this interpreter's environment, and its stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed argument list
            [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--format", "json",
             "--output", str(report), "--timeout", "30"],
            capture_output=True, text=True, check=False)
        if not report.exists() or not report.read_text().strip():
            return None, done.stderr
        return json.loads(report.read_text()), done.stderr


def verdict(report: dict | None, errors: str, *, in_ci: bool,
            offline_ok: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print for one pip-audit report."""
    dependencies = (report or {}).get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not audited:
        reason = skipped[0]["skip_reason"] if skipped else (
            errors.strip().splitlines() or ["no report"])[-1]
        lines = [f"pip-audit: {NO_ACCESS} ({len(skipped)} packages not audited, e.g. "
                 f"{reason[:160]})"]
        if in_ci and not offline_ok:
            lines.append("pip-audit: CI=true: failing (set JIDU_AUDIT_OFFLINE=skip where CI "
                         "has no access to pypi.org's JSON API or OSV)")
            return 1, lines
        return 0, lines
    fixable, lines = [], []
    unfixed = 0
    for dependency in audited:
        for vuln in dependency.get("vulns", []):
            line = (f"{dependency['name']} {dependency['version']}: {vuln['id']} "
                    f"({', '.join(vuln.get('aliases', [])) or 'no alias'})")
            if vuln.get("fix_versions"):
                fixable.append(f"pip-audit: VULNERABLE: {line} fixed in "
                               f"{', '.join(vuln['fix_versions'])}")
            else:
                unfixed += 1
                lines.append(f"pip-audit: warning: {line}, no fix yet")
    lines += fixable
    lines += [f"pip-audit: not audited: {d['name']} ({d['skip_reason']})" for d in skipped]
    lines.append(f"pip-audit: {len(audited)} packages audited, {len(fixable)} fixable and "
                 f"{unfixed} unfixed known vulnerabilities, {len(skipped)} not audited")
    return (1 if fixable else 0), lines


def main() -> int:
    report, errors = audit()
    status, lines = verdict(report, errors, in_ci=os.environ.get("CI", "").lower() == "true",
                            offline_ok=os.environ.get("JIDU_AUDIT_OFFLINE", "") == "skip")
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
