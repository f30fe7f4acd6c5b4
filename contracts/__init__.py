"""JSON Schemas and Pact contracts for Segment, Pushwoosh and the bridge.

`swoosh.contracts.validate(name, payload)`, `swoosh.contracts.check(name, payload)` and
`swoosh.contracts.names()` are the schema API (see contracts/schemas.py). This package is the schema registry
(bottom layer); the Pact harness is the sub-package `swoosh.contracts.pact` (middle layer: it runs the bridge),
which nothing here imports.
"""

from swoosh.contracts.schemas import (
    SchemaViolation,
    UnknownSchema,
    ValidationProblem,
    check,
    is_valid,
    names,
    schema,
    validate,
)

__all__ = [
    "SchemaViolation",
    "UnknownSchema",
    "ValidationProblem",
    "check",
    "is_valid",
    "names",
    "schema",
    "validate",
]
