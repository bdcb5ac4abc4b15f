"""Scanner output parsers: npm audit (v7+ and v6), pip-audit JSON, SARIF; severity ranking."""

from __future__ import annotations

import json

import pytest

from shipit.checks.audit import (
    AuditFormatError,
    ScannerUnavailable,
    looks_offline,
    parse_audit,
)

NPM7 = {
    "auditReportVersion": 2,
    "vulnerabilities": {
        "minimist": {
            "name": "minimist",
            "severity": "critical",
            "isDirect": True,
            "via": [
                {
                    "source": 1097677,
                    "name": "minimist",
                    "title": "Prototype Pollution in minimist",
                    "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h",
                    "severity": "critical",
                    "range": "<0.2.4",
                }
            ],
            "range": "<0.2.4",
            "fixAvailable": {"name": "minimist", "version": "1.2.8", "isSemVerMajor": True},
        },
        "mkdirp": {
            "name": "mkdirp",
            "severity": "low",
            "via": ["minimist"],
            "range": "0.4.1 - 0.5.1",
            "fixAvailable": True,
        },
    },
    "metadata": {"vulnerabilities": {"low": 1, "critical": 1, "total": 2}},
}


def test_npm_audit_v7() -> None:
    fmt, vulns = parse_audit(json.dumps(NPM7, indent=2))
    assert fmt == "npm-audit"
    by_name = {v.package.split("@")[0]: v for v in vulns}
    crit = by_name["minimist"]
    assert crit.severity == "critical"
    assert crit.title == "Prototype Pollution in minimist"
    assert crit.id == "https://github.com/advisories/GHSA-xvch-5gv4-984h"
    assert crit.fix == "npm audit fix --force (installs minimist@1.2.8)"
    assert by_name["mkdirp"].title == "depends on vulnerable minimist"
    assert by_name["mkdirp"].fix == "npm audit fix"
    assert crit.at_least("high") and not by_name["mkdirp"].at_least("moderate")


def test_npm_audit_v6_advisories() -> None:
    data = {
        "advisories": {
            "1179": {
                "module_name": "minimist",
                "severity": "moderate",
                "title": "Prototype Pollution",
                "url": "https://npmjs.com/advisories/1179",
                "vulnerable_versions": "<0.2.1",
                "recommendation": "Upgrade to version 0.2.1 or later",
            }
        }
    }
    fmt, vulns = parse_audit(json.dumps(data))
    assert fmt == "npm-audit"
    assert [(v.severity, v.fix) for v in vulns] == [
        ("moderate", "Upgrade to version 0.2.1 or later")
    ]
    assert vulns[0].at_least("medium") and not vulns[0].at_least("high")


def test_npm_audit_offline_shape_seen_with_npm_11() -> None:
    data = {
        "message": "request to http://127.0.0.1:9/-/npm/v1/security/advisories/bulk failed, "
        "reason: connect ECONNREFUSED 127.0.0.1:9",
        "error": {"summary": "", "detail": ""},
    }
    with pytest.raises(ScannerUnavailable, match="ECONNREFUSED"):
        parse_audit(json.dumps(data, indent=2))


def test_npm_audit_error_means_no_database() -> None:
    data = {"error": {"code": "ENOTFOUND", "summary": "request to https://x failed", "detail": ""}}
    with pytest.raises(ScannerUnavailable, match="ENOTFOUND"):
        parse_audit(json.dumps(data))


def test_pip_audit_json_has_no_severity_and_counts_as_high() -> None:
    data = {
        "dependencies": [
            {
                "name": "requests",
                "version": "2.19.0",
                "vulns": [
                    {
                        "id": "PYSEC-2018-28",
                        "fix_versions": ["2.20.0"],
                        "aliases": ["CVE-2018-18074"],
                        "description": "The Requests package sends an HTTP Authorization header.",
                    }
                ],
            },
            {"name": "idna", "version": "3.7", "vulns": []},
        ],
        "fixes": [],
    }
    fmt, vulns = parse_audit("Found 1 known vulnerability\n" + json.dumps(data))
    assert fmt == "pip-audit"
    assert len(vulns) == 1
    v = vulns[0]
    assert (v.package, v.id, v.fix) == (
        "requests==2.19.0",
        "PYSEC-2018-28",
        "upgrade requests to 2.20.0",
    )
    assert v.severity == "unknown" and v.at_least("high") and not v.at_least("critical")


SARIF = {
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "version": "2.1.0",
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "scanner",
                    "rules": [
                        {"id": "CVE-1", "properties": {"security-severity": "9.8"}},
                        {"id": "CVE-2", "properties": {"security-severity": "5.3"}},
                        {"id": "R3", "defaultConfiguration": {"level": "error"}},
                    ],
                }
            },
            "results": [
                {
                    "ruleId": "CVE-1",
                    "level": "error",
                    "message": {"text": "lodash RCE"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "package-lock.json"},
                                "region": {"startLine": 12},
                            }
                        }
                    ],
                },
                {"ruleId": "CVE-2", "message": {"text": "medium thing"}},
                {"ruleId": "R3", "message": {"text": "from level"}},
                {"ruleId": "R4", "level": "note", "message": {"text": "a note"}},
            ],
        }
    ],
}


def test_sarif_severities_from_score_and_level() -> None:
    fmt, vulns = parse_audit(json.dumps(SARIF))
    assert fmt == "sarif"
    got = [(v.id, v.severity) for v in vulns]
    assert got == [("CVE-1", "critical"), ("CVE-2", "medium"), ("R3", "high"), ("R4", "low")]
    assert (vulns[0].file, vulns[0].line, vulns[0].title) == ("package-lock.json", 12, "lodash RCE")


def test_unreadable_output() -> None:
    with pytest.raises(AuditFormatError):
        parse_audit("everything is fine")
    with pytest.raises(AuditFormatError):
        parse_audit('{"hello": 1}')


def test_offline_messages_are_recognised() -> None:
    assert looks_offline("npm error code ENOTFOUND\nnpm error network request failed")
    assert looks_offline("ConnectionError: Max retries exceeded with url: /pypi/idna/json")
    assert not looks_offline("found 0 vulnerabilities")
