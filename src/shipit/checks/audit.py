"""Read vulnerability scanner output: npm audit JSON (v6 and v7+), pip-audit JSON, SARIF.

``parse_audit(text)`` recognises the format and returns ``Vulnerability`` records with a
normalised severity (low < moderate < high < critical; unknown ranks as high, because a
scanner that does not rate a finding has still found it). A scanner that could not reach its
database raises ``ScannerUnavailable``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SEVERITY_RANK = {"info": 0, "low": 1, "moderate": 2, "medium": 2, "high": 3, "critical": 4}
UNKNOWN = "unknown"


def rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity.lower(), SEVERITY_RANK["high"])


@dataclass(frozen=True)
class Vulnerability:
    package: str
    severity: str  # low | moderate | high | critical | unknown
    title: str
    id: str | None = None
    fix: str | None = None
    file: str | None = None
    line: int | None = None

    def at_least(self, threshold: str) -> bool:
        return rank(self.severity) >= rank(threshold)


class AuditFormatError(Exception):
    """The output is not in any format we read."""


class ScannerUnavailable(Exception):
    """The scanner ran but could not reach its vulnerability database."""


_NETWORK = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|getaddrinfo|network|"
    r"Connection ?(refused|reset|error)|Max retries exceeded|Name or service not known|"
    r"Temporary failure in name resolution|audit endpoint returned an error|"
    r"request to .* failed|unable to (reach|connect)|timed? ?out",
    re.I,
)


def looks_offline(text: str) -> bool:
    return bool(_NETWORK.search(text))


def _first_json(text: str) -> Any:
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise AuditFormatError("no JSON in the scanner's output")
    try:
        return json.JSONDecoder().raw_decode(text[start:])[0]
    except json.JSONDecodeError as exc:
        raise AuditFormatError(f"the scanner's output is not valid JSON: {exc}") from None


def _fix_text(fix: Any) -> str | None:
    if fix is True:
        return "npm audit fix"
    if isinstance(fix, dict) and fix.get("name"):
        major = " --force" if fix.get("isSemVerMajor") else ""
        return f"npm audit fix{major} (installs {fix['name']}@{fix.get('version', '?')})"
    return None


def parse_npm_audit(data: dict[str, Any]) -> list[Vulnerability]:
    """npm 7+ (``vulnerabilities``) and npm 6 (``advisories``) report shapes."""
    if "error" in data and not data.get("vulnerabilities") and not data.get("advisories"):
        err = data["error"]
        parts = [str(data.get("message") or "")]
        if isinstance(err, dict):
            parts += [str(err.get(k) or "") for k in ("code", "summary", "message", "detail")]
        else:
            parts.append(str(err))
        text = "; ".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
        raise ScannerUnavailable(text or "the audit endpoint returned an error")
    vulns: list[Vulnerability] = []
    for name, v in (data.get("vulnerabilities") or {}).items():
        titles = [
            str(item.get("title") or item.get("url") or "")
            for item in v.get("via", [])
            if isinstance(item, dict)
        ]
        via_pkgs = [str(item) for item in v.get("via", []) if isinstance(item, str)]
        title = "; ".join(t for t in titles if t) or (
            f"depends on vulnerable {', '.join(via_pkgs)}" if via_pkgs else "vulnerable"
        )
        ids = [
            str(item.get("url") or item.get("source"))
            for item in v.get("via", [])
            if isinstance(item, dict) and (item.get("url") or item.get("source"))
        ]
        vulns.append(
            Vulnerability(
                package=f"{v.get('name', name)}@{v.get('range', '*')}",
                severity=str(v.get("severity", UNKNOWN)).lower(),
                title=title,
                id=ids[0] if ids else None,
                fix=_fix_text(v.get("fixAvailable")),
            )
        )
    for adv_id, a in (data.get("advisories") or {}).items():
        vulns.append(
            Vulnerability(
                package=f"{a.get('module_name', '?')}@{a.get('vulnerable_versions', '*')}",
                severity=str(a.get("severity", UNKNOWN)).lower(),
                title=str(a.get("title", "vulnerable")),
                id=str(a.get("url") or adv_id),
                fix=a.get("recommendation"),
            )
        )
    return vulns


def parse_pip_audit(data: dict[str, Any]) -> list[Vulnerability]:
    """pip-audit ``-f json``: ``dependencies[].vulns[]`` (no severities: ranked unknown)."""
    vulns = []
    for dep in data.get("dependencies", []):
        for v in dep.get("vulns", []) or []:
            fixes = v.get("fix_versions") or []
            sev = str(v.get("severity") or UNKNOWN).lower()
            vulns.append(
                Vulnerability(
                    package=f"{dep.get('name')}=={dep.get('version')}",
                    severity=sev,
                    title=(v.get("description") or v.get("id") or "vulnerable").split("\n")[0][
                        :200
                    ],
                    id=v.get("id"),
                    fix=f"upgrade {dep.get('name')} to {fixes[0]}" if fixes else None,
                )
            )
    return vulns


def _sarif_severity(score: Any, level: str | None) -> str:
    try:
        value = float(score)
    except (TypeError, ValueError):
        value = -1.0
    if value >= 9.0:
        return "critical"
    if value >= 7.0:
        return "high"
    if value >= 4.0:
        return "medium"
    if value > 0:
        return "low"
    return {"error": "high", "warning": "medium", "note": "low", "none": "info"}.get(
        level or "warning", "medium"
    )


def parse_sarif(data: dict[str, Any]) -> list[Vulnerability]:
    """SARIF 2.1: ``runs[].results[]``; severity from the rule's ``security-severity``
    (CVSS score) or the result's ``level``."""
    vulns = []
    for run in data.get("runs", []):
        rules = {}
        for rule in run.get("tool", {}).get("driver", {}).get("rules", []) or []:
            rules[rule.get("id")] = rule
        for res in run.get("results", []) or []:
            rule = rules.get(res.get("ruleId"), {})
            props = {**(rule.get("properties") or {}), **(res.get("properties") or {})}
            level = res.get("level") or (rule.get("defaultConfiguration") or {}).get("level")
            severity = _sarif_severity(props.get("security-severity"), level)
            file = line = None
            locs = res.get("locations") or []
            if locs:
                phys = locs[0].get("physicalLocation", {})
                file = phys.get("artifactLocation", {}).get("uri")
                line = phys.get("region", {}).get("startLine")
            message = res.get("message", {})
            text = message.get("text") if isinstance(message, dict) else str(message)
            vulns.append(
                Vulnerability(
                    package=str(res.get("ruleId") or "finding"),
                    severity=severity,
                    title=str(text or (rule.get("shortDescription") or {}).get("text") or ""),
                    id=res.get("ruleId"),
                    file=file,
                    line=int(line) if isinstance(line, int) else None,
                )
            )
    return vulns


def parse_audit(text: str) -> tuple[str, list[Vulnerability]]:
    """Recognise the format of ``text`` and parse it: returns (format name, findings)."""
    data = _first_json(text)
    if isinstance(data, dict):
        if "runs" in data and ("$schema" in data or "version" in data):
            return "sarif", parse_sarif(data)
        if "dependencies" in data and isinstance(data["dependencies"], list):
            return "pip-audit", parse_pip_audit(data)
        if any(k in data for k in ("vulnerabilities", "advisories", "auditReportVersion")):
            return "npm-audit", parse_npm_audit(data)
        if "error" in data:
            return "npm-audit", parse_npm_audit(data)
    if isinstance(data, list) and all(isinstance(d, dict) and "vulns" in d for d in data):
        return "pip-audit", parse_pip_audit({"dependencies": data})
    raise AuditFormatError(
        "the scanner's output is neither npm audit JSON, pip-audit JSON nor SARIF"
    )
