"""``gateway.heap.settle``, in a child interpreter each: freezing the test process's heap would keep every
later test's garbage cycles for good."""

from __future__ import annotations

import json
import subprocess
import sys

_CHILD = """
import gc, json, sys, weakref
from gateway import heap

class Node:
    pass

# A cycle that is garbage already: settle must collect it, not freeze it for the process's life.
a, b = Node(), Node()
a.other, b.other = b, a
gone = weakref.ref(a)
del a, b
default = gc.get_threshold()
heap.settle(int(sys.argv[1]))
print(json.dumps({
    "default": default,
    "threshold": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
    "cycle_collected": gone() is None,
}))
"""


def _settled(threshold: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(threshold)], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_settle_collects_freezes_and_raises_the_young_threshold() -> None:
    result = _settled(5000)
    default = result["default"]
    assert isinstance(default, list)
    assert result["threshold"] == [5000, default[1], default[2]]
    assert isinstance(result["frozen"], int)
    assert result["frozen"] > 1000
    assert result["cycle_collected"] is True


def test_settle_with_zero_keeps_pythons_thresholds() -> None:
    result = _settled(0)
    assert result["threshold"] == result["default"]
    assert isinstance(result["frozen"], int)
    assert result["frozen"] > 1000
