"""CPU and resident memory of the processes a run is made of, read with psutil.

A *group* is a role in the run ("gateway", "postgres"...): the processes of one tree (a
uvicorn supervisor and its workers) or every process with one name (PostgreSQL's backends).
CPU is the difference of cumulative CPU time between two snapshots, so a group's CPU % can
exceed 100 on a machine with several cores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import psutil

__all__ = ["Finder", "GroupUsage", "Groups", "Snapshot", "by_name", "by_tree"]

Finder = Callable[[], list[psutil.Process]]


def by_tree(pid: int) -> Finder:
    """The process ``pid`` and all its descendants."""

    def find() -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    return find


def by_name(*names: str) -> Finder:
    """Every process whose name is one of ``names``."""

    def find() -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["name"]) if p.info["name"] in names]

    return find


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Cumulative CPU seconds and RSS bytes, per process id, per group, at one moment."""

    cpu: dict[str, dict[int, float]]
    rss: dict[str, int]


@dataclass(frozen=True, slots=True)
class GroupUsage:
    """What one group used between two snapshots."""

    cpu_percent: float
    rss_mb: float
    processes: int

    def to_json(self) -> dict[str, float]:
        return {
            "cpu_percent": round(self.cpu_percent, 1),
            "rss_mb": round(self.rss_mb, 1),
            "processes": self.processes,
        }


class Groups:
    """The groups of a run, by role."""

    def __init__(self, finders: dict[str, Finder]) -> None:
        self._finders = finders

    def snapshot(self) -> Snapshot:
        cpu: dict[str, dict[int, float]] = {}
        rss: dict[str, int] = {}
        for group, find in self._finders.items():
            cpu[group], rss[group] = {}, 0
            for process in find():
                # A process may end between being listed and being read.
                with contextlib.suppress(psutil.Error), process.oneshot():
                    times = process.cpu_times()
                    cpu[group][process.pid] = times.user + times.system
                    rss[group] += process.memory_info().rss
        return Snapshot(cpu, rss)

    @staticmethod
    def usage(before: Snapshot, after: Snapshot, seconds: float) -> dict[str, GroupUsage]:
        """Each group's CPU % over ``seconds`` and its RSS at ``after``."""
        used: dict[str, GroupUsage] = {}
        for group, now in after.cpu.items():
            then = before.cpu.get(group, {})
            # A process born during the window used all its CPU time inside it.
            spent = sum(total - then.get(pid, 0.0) for pid, total in now.items())
            used[group] = GroupUsage(
                cpu_percent=100 * spent / seconds if seconds > 0 else 0.0,
                rss_mb=after.rss.get(group, 0) / 2**20,
                processes=len(now),
            )
        return used
