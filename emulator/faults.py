"""Fault rules: answer with a chosen status, add latency or drop the connection, before routing.

A rule matches on method and a path regex, fires for the next N matching requests or with a
probability drawn from its own seeded RNG (so a failing test replays exactly), and is applied by
`FaultMiddleware` around the whole app except the `/_swoosh/` control namespace.
"""

from __future__ import annotations

import builtins
import itertools
import random
import re
import re._parser as re_parser  # type: ignore[import-not-found]  # no stubs for the regex parser
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

DROP_ENVIRON_KEY = "swoosh.drop_connection"
CONTROL_PREFIX = "/_swoosh"


RULE_FIELDS = ("method", "path", "status", "body", "headers", "retry_after", "delay_ms", "drop", "times",
               "probability", "seed")


class FaultRuleError(ValueError):
    """A rule definition that cannot be used; the message names the field."""


@dataclass
class FaultRule:
    id: int
    method: str | None = None
    path: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    delay_ms: float = 0.0
    drop: bool = False
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    fired: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_dict(cls, rule_id: int, spec: dict[str, Any]) -> FaultRule:
        if not isinstance(spec, dict):
            raise FaultRuleError("a fault rule must be a JSON object")
        unknown = sorted(set(spec) - set(RULE_FIELDS))
        if unknown:
            raise FaultRuleError(f"unknown fault rule field(s): {', '.join(unknown)}")
        rule = cls(id=rule_id)
        rule.method = _opt_str(spec, "method")
        rule.path = _opt_str(spec, "path")
        if rule.path is not None:
            rule._pattern = compile_path_pattern(rule.path)
        rule.status = _opt_number(spec, "status", int, 100, 599)
        rule.body = spec.get("body")
        headers = spec.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise FaultRuleError("headers must be an object of strings")
        rule.headers = {str(k): v for k, v in headers.items()}
        rule.retry_after = _opt_number(spec, "retry_after", float, 0, 86400)
        rule.delay_ms = _opt_number(spec, "delay_ms", float, 0, 120_000) or 0.0
        rule.drop = bool(spec.get("drop", False))
        rule.times = _opt_number(spec, "times", int, 1, 10**9)
        probability = _opt_number(spec, "probability", float, 0, 1)
        rule.probability = 1.0 if probability is None else probability
        rule.seed = _opt_number(spec, "seed", int, -(2**63), 2**63)
        rule._rng = random.Random(rule.seed)
        if rule.status is None and not rule.drop and not rule.delay_ms:
            raise FaultRuleError("a fault rule needs at least one of status, drop or delay_ms")
        return rule

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self._pattern and not self._pattern.search(path[:MATCHED_PATH_CHARS]))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


MAX_PATTERN_CHARS = 200
MATCHED_PATH_CHARS = 512  # a rule sees at most this much of a path
MAX_ALTERNATIVES = 8  # the product of the alternatives' counts: each alternation multiplies backtracking
_REPEATS = {re_parser.MAX_REPEAT, re_parser.MIN_REPEAT, re_parser.POSSESSIVE_REPEAT}
_EXPLODES = "its matching time grows exponentially with the path"


def compile_path_pattern(pattern: str) -> re.Pattern[str]:
    """A path regex that matches in bounded time, since matching runs under the fault lock for every request
    (`(a+)+$` took 1.16 s on 25 characters; even `a*a*b` takes seconds on 512): short, at most one repetition
    (`*`, `+`, `{2,}`; `?` is free), no alternation inside it, no backreference, few alternatives. The path
    searched is cut at MATCHED_PATH_CHARS, so the worst case is one quadratic scan of 512 characters."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise FaultRuleError(f"path patterns are limited to {MAX_PATTERN_CHARS} characters")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
        shape = _Shape()
        shape.walk(re_parser.parse(pattern), inside_repeat=False)
    except re.error as exc:
        raise FaultRuleError(f"path is not a valid regular expression: {exc}") from exc
    if shape.repeats > 1:
        raise FaultRuleError("path may hold one repetition (*, +, {n,m}) at most: each one more multiplies the "
                             "matching time by the path's length")
    if shape.alternatives > MAX_ALTERNATIVES:
        raise FaultRuleError(f"path may choose between at most {MAX_ALTERNATIVES} alternatives in all")
    return compiled


class _Shape:
    """Counts what makes a backtracking match slow while walking `re`'s parse tree."""

    def __init__(self) -> None:
        self.repeats = 0
        self.alternatives = 1

    def walk(self, parsed: Any, inside_repeat: bool) -> None:
        for op, arg in parsed:
            if op in _REPEATS:
                _low, high, sub = arg
                repeats = high is re_parser.MAXREPEAT or high > 1
                if inside_repeat and repeats:
                    raise FaultRuleError(f"path may not repeat a repetition, like (a+)+: {_EXPLODES}")
                self.repeats += repeats
                self.walk(sub, inside_repeat or repeats)
            elif op is re_parser.BRANCH:
                if inside_repeat:
                    raise FaultRuleError(f"path may not repeat an alternation, like (a|ab)*: {_EXPLODES}")
                self.alternatives *= len(arg[1])
                for branch in arg[1]:
                    self.walk(branch, inside_repeat)
            elif op in (re_parser.GROUPREF, re_parser.GROUPREF_EXISTS):
                raise FaultRuleError("path may not use backreferences")
            elif op in (re_parser.SUBPATTERN, re_parser.ASSERT, re_parser.ASSERT_NOT, re_parser.ATOMIC_GROUP):
                self.walk(arg[-1], inside_repeat)


def _opt_str(spec: dict[str, Any], key: str) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FaultRuleError(f"{key} must be a string")
    return value


def _opt_number(spec: dict[str, Any], key: str, kind: type, low: float, high: float) -> Any:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultRuleError(f"{key} must be a number")
    if not low <= value <= high:
        raise FaultRuleError(f"{key} must be between {low} and {high}")
    return kind(value)


class FaultRules:
    """The ordered rule list of one fake; the first matching live rule fires."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any]) -> FaultRule:
        rule = FaultRule.from_dict(next(self._ids), spec)
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, counted as fired; None when no rule applies."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or not rule.matches(method, path):
                    continue
                if rule.probability < 1.0 and rule._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None

    def export(self) -> builtins.list[dict[str, Any]]:  # `list` here is the method below
        return [r.describe() for r in self.list()]

    def load(self, specs: Iterable[dict[str, Any]]) -> None:
        self.clear()
        for spec in specs:
            rule = self.add({k: spec[k] for k in RULE_FIELDS if spec.get(k) is not None})
            rule.fired = int(spec.get("fired", 0))


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# The body of a fault rule that names none, in the service's own error shape: (status, path, text) -> JSON.
FaultBody = Callable[[int, str, str], Any]
DEFAULT_RETRY_AFTER = 1.0  # a 429 without `retry_after` still carries the rate-limit headers, as Segment's do


def generic_fault_body(status: int, path: str, text: str) -> Any:
    return {"code": "fault_injected", "message": text}


class FaultMiddleware:
    """Applies FaultRules in front of a WSGI app; control routes are never faulted."""

    def __init__(
        self,
        app: WSGIApp,
        rules: FaultRules,
        sleep: Callable[[float], None] = time.sleep,
        body: FaultBody = generic_fault_body,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.rules = rules
        self.sleep = sleep
        self.body = body
        self.now = now  # the service's clock, for X-RateLimit-Reset

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self.app(environ, start_response)
        rule = self.rules.pick(environ.get("REQUEST_METHOD", "GET"), path)
        if rule is None:
            return self.app(environ, start_response)
        environ["swoosh.fault"] = rule.id
        if rule.delay_ms:
            self.sleep(rule.delay_ms / 1000)
        if rule.drop:
            drop = environ.get(DROP_ENVIRON_KEY)
            if drop is None:
                raise ConnectionAbortedError("fault rule dropped the connection")
            drop()
            return []
        if rule.status is None:
            return self.app(environ, start_response)
        return self._respond(rule, path, start_response)

    def _respond(self, rule: FaultRule, path: str, start_response: Callable[..., Any]) -> list[bytes]:
        status = rule.status or 500
        if rule.body is None:
            body = orjson.dumps(self.body(status, path, f"swoosh fault rule {rule.id}"))
            ctype = "application/json"
        elif isinstance(rule.body, str):
            body, ctype = rule.body.encode(), "text/plain; charset=utf-8"
        else:
            body, ctype = orjson.dumps(rule.body), "application/json"
        headers = {"Content-Type": ctype, "Content-Length": str(len(body)), **rule.headers}
        retry_after = rule.retry_after
        if retry_after is None and status == 429:
            retry_after = DEFAULT_RETRY_AFTER
        if retry_after is not None:
            headers.setdefault("Retry-After", str(int(retry_after) if retry_after.is_integer() else retry_after))
            headers.setdefault("X-RateLimit-Reset", str(int(self.now() + retry_after)))
        reason = _REASONS.get(status, "Fault")
        start_response(f"{status} {reason}", list(headers.items()))
        return [body]


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    423: "Locked",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
