"""pip-audit over the project's pinned dependencies (what `make install` put in .venv).

Run by .ci/run with the Python of .ci/.venv. A known vulnerability fails. When the
vulnerability service cannot be reached (this machine reaches package indexes, not always their
vulnerability data), it prints "pip-audit NOT RUN: <reason>" and passes, unless
PIP_AUDIT_REQUIRED=true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = Path(sys.executable).parent / "pip-audit"


def not_run(reason: str) -> int:
    print(f"pip-audit NOT RUN: {reason}")
    return 1 if os.environ.get("PIP_AUDIT_REQUIRED", "").lower() == "true" else 0


def main() -> int:
    pinned = subprocess.run(
        [str(ROOT / ".venv/bin/pip"), "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        requirements, report = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        requirements.write_text(pinned)
        result = subprocess.run(
            [str(PIP_AUDIT), "--requirement", str(requirements), "--no-deps", "--disable-pip",
             "--format", "json", "--output", str(report), "--progress-spinner", "off"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if not report.exists() or not report.read_text().strip():
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            return not_run(f"pip-audit failed ({last[:200]})")
        dependencies = json.loads(report.read_text())["dependencies"]
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    if not audited:
        reason = dependencies[0]["skip_reason"] if dependencies else "nothing to audit"
        return not_run(f"the vulnerability service answered for none of them ({reason})")
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    skipped = len(dependencies) - len(audited)
    print(
        f"pip-audit: {len(audited)} pinned dependencies audited, {len(vulnerable)} vulnerable"
        + (f", {skipped} not found by the service" if skipped else "")
    )
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
