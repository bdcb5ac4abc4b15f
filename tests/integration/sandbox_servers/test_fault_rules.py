"""Fault rules: parsing of the JSON shape, order, counts, and thread safety of the rule book."""

from __future__ import annotations

import threading

import pytest

from shipit.sandbox.faults import FaultBook, FaultRule, parse_rules


def test_rules_parse_from_the_contract_shape_with_defaults() -> None:
    rules = parse_rules(
        {
            "rules": [
                {
                    "method": "post",
                    "path": "^/a$",
                    "action": "status",
                    "status": 429,
                    "headers": {"Retry-After": "1"},
                    "body": {"m": 1},
                    "times": 2,
                },
                {"path": "x", "action": "delay", "delay_s": 5},
            ]
        }
    )
    assert rules[0] == FaultRule(
        method="POST",
        path="^/a$",
        status=429,
        headers={"Retry-After": "1"},
        body={"m": 1},
        times=2,
    )
    assert rules[1].method == "*" and rules[1].times == 1 and rules[1].delay_s == 5.0
    assert parse_rules({"action": "drop_before_body"})[0].action == "drop_before_body"


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"action": "explode"}, "unknown fault action"),
        ({"path": "("}, "invalid path regex"),
        ({"status": 99}, "invalid status"),
        ({"times": 0}, "times must be at least 1"),
        ({"delay_s": -1}, "delay_s"),
        ({"sttaus": 500}, "unknown fault rule field(s): sttaus"),
        ({"headers": ["x"]}, "headers must be an object"),
        ({}, "got an empty object"),
    ],
)
def test_bad_rules_are_refused_with_the_reason(rule: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        parse_rules([rule] if rule else rule)


def test_rules_apply_in_order_and_are_consumed() -> None:
    book = FaultBook()
    book.add(
        parse_rules(
            [
                {"method": "GET", "path": "^/a", "status": 500, "times": 1},
                {"method": "*", "path": "^/a", "status": 503, "times": 2},
                {"path": "^/forever$", "status": 502, "times": None},
            ]
        )
    )
    statuses = [getattr(book.take("GET", "/a/b"), "status", None) for _ in range(4)]
    assert statuses == [500, 503, 503, None]
    assert book.take("POST", "/zzz") is None
    for _ in range(5):
        rule = book.take("PUT", "/forever")
        assert rule is not None and rule.status == 502
    assert book.listing() == [
        {
            **parse_rules([{"path": "^/forever$", "status": 502, "times": None}])[0].to_dict(),
            "remaining": None,
        }
    ]
    assert book.clear() == 1 and book.listing() == []


def test_the_rule_book_counts_exactly_under_concurrency() -> None:
    book = FaultBook()
    book.add(parse_rules([{"path": ".*", "times": 500}]))
    hits = []
    lock = threading.Lock()

    def worker() -> None:
        n = sum(1 for _ in range(200) if book.take("GET", "/x") is not None)
        with lock:
            hits.append(n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(hits) == 500
    assert book.listing() == []
