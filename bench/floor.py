"""The physical floor of ``stcheck validate FILE``: what any validator with positions must do.

    python bench/floor.py bench/out/m10000.yaml

Interpreter start-up, importing PyYAML and jsonschema-rs, reading the file,
libyaml's event stream to its end (every event carries its start and end
marks: the positions), the plainest build of the data from those events (no
position index, no checks of YAML's traps, no messages) and one jsonschema-rs
validation against ``schemas/manifest-v1.schema.json``. Exits 0 when valid.
:mod:`bench_validate` times it beside ``stcheck validate``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
from yaml import _yaml
from yaml.events import MappingStartEvent, ScalarEvent, SequenceStartEvent

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "manifest-v1.schema.json"


def build(next_event: Any, event: Any) -> Any:
    """The value of the node ``event`` starts; plain scalars that look like integers are ints."""
    kind = event.__class__
    if kind is ScalarEvent:
        text = event.value
        return int(text) if not event.style and text.isdigit() else text
    if kind is MappingStartEvent:
        result = {}
        while (key := next_event()).__class__ is ScalarEvent:
            result[key.value] = build(next_event, next_event())
        return result
    if kind is SequenceStartEvent:
        items = []
        while not (item := next_event()).__class__.__name__.endswith("EndEvent"):
            items.append(build(next_event, item))
        return items
    return None  # an alias: bench manifests have none


def main(path: str) -> int:
    parser = _yaml.CParser(Path(path).read_bytes())
    next_event = parser.get_event
    next_event()  # stream start
    next_event()  # document start
    data = build(next_event, next_event())
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return 0 if validator.is_valid(data) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
