"""The CI's dependency audit (.ci/pip_audit.py): what fails it and what does not (pure)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "pip_audit.py"
_spec = importlib.util.spec_from_file_location("pip_audit_step", SCRIPT)
step = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(step)

CLEAN = {"name": "flask", "version": "3.1.3", "vulns": []}
FIXABLE = {"name": "pillow", "version": "9.0.0", "vulns": [
    {"id": "PYSEC-2023-1", "fix_versions": ["9.0.1"], "aliases": ["CVE-2023-1"]}]}
UNFIXED = {"name": "jieba", "version": "0.42.1", "vulns": [
    {"id": "GHSA-xxxx", "fix_versions": [], "aliases": []}]}
NOT_FOUND = {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be "
             "audited: flask (3.1.3)"}


@pytest.mark.parametrize(("dependencies", "in_ci", "status", "says"), [
    ([CLEAN], True, 0, "0 fixable"),
    ([CLEAN, FIXABLE], False, 1, "VULNERABLE: pillow 9.0.0: PYSEC-2023-1"),
    ([CLEAN, UNFIXED], True, 0, "warning: jieba"),
    ([NOT_FOUND], False, 0, "skipped: no access to advisory database"),
    ([NOT_FOUND], True, 1, "CI=true: failing"),
])
def test_only_fixable_vulnerabilities_or_a_blind_ci_fail(dependencies, in_ci, status, says):
    code, lines = step.verdict({"dependencies": dependencies}, "", in_ci=in_ci,
                               offline_ok=False)
    assert code == status
    assert any(says in line for line in lines), lines
    print("\n[pip-audit step]", dependencies[-1]["name"], "CI" if in_ci else "local", "→", code,
          lines[-1])


def test_a_ci_without_access_may_say_so():
    code, lines = step.verdict({"dependencies": [NOT_FOUND]}, "", in_ci=True, offline_ok=True)
    assert code == 0
    assert "skipped: no access to advisory database" in lines[0]
