"""What every benchmark shares: the machine's description, a timer, and one row format for the results table."""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> dict:
    "The machine the figures belong to: CPU model and count, memory, GPU when one is visible."
    import torch
    from helpers.core import cpu_name
    cpu = cpu_name()
    try: memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError, AttributeError): memory_gib = None
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    name = (gpu or f"cpu{cores}").lower().replace(" ", "-")
    return {"name": name, "cpu": cpu, "cores": cores, "memory_gib": round(memory_gib, 1) if memory_gib else None,
            "gpu": gpu, "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}


def best_time(fn, repeats: int = 3) -> float:
    "The shortest of `repeats` wall times of `fn()` (the least disturbed run), after one warm-up call."
    return best_times(fn, repeats=repeats)[0]


def best_times(*fns, repeats: int = 5) -> list[float]:
    """The shortest wall time of each of `fns`, their runs interleaved (a, b, a, b, ...) so that a machine whose speed
    drifts during the measurement disturbs each alike; one warm-up call each first."""
    for fn in fns: fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, spent in zip(fns, times):
            start = time.perf_counter(); fn(); spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def row(benchmark: str, figure: str, value: float, unit: str, target: str = "", met: bool | None = None,
        note: str = "") -> dict:
    "One line of the results table; `met` is None where the figure has no target."
    return {"benchmark": benchmark, "figure": figure, "value": value, "unit": unit, "target": target, "met": met,
            "note": note}
