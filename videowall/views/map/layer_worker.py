"""The map's layer worker: layer rebuilds (units, incidents, heat, zone counters and labels,
clustering) run on one thread per map tile (`map-layers`), never on the GUI thread.

Hand-over is explicit: the GUI thread takes a snapshot of what a layer needs (the queued unit
changes, the open incidents, the heat's points...) and submits a job; the job computes plain
arrays and images (numpy, shapely, QImage: nothing that belongs to a widget) and its result
comes back through a queued signal to the GUI thread, which only hands it to the layer's
items. At most one job per layer is in flight: newer data waits for the next refresh and is
coalesced there. Each job carries the layer's epoch at submission; a layer whose data was
replaced meanwhile (another feed, a heat window changed) bumps its epoch, and a result of an
older epoch is dropped, never shown. A job that raises is logged once per layer and reason;
the layer frees up and the map goes on.

Results are applied in rounds, so that the map still paints at most once per refresh: the
jobs a refresh submits form a round, and their results are applied together once all of
them are back (or after `ROUND_S`, whichever comes first), followed by the rest of that
refresh (`end_round`'s callback). A result that comes back after its round was applied is
held for the next one.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal

log = logging.getLogger(__name__)

Job = Callable[[], Any]
Apply = Callable[[Any], None]


class _Bridge(QObject):
    """Lives on the GUI thread; the worker emits, the map applies (queued)."""

    done = pyqtSignal(object)  # (layer, epoch, result, error, seconds)


class LayerWorker:
    """Runs layer jobs on its own thread; results are applied on the GUI thread."""

    ROUND_S = 0.05  # a round's results wait at most this long for its slowest job

    def __init__(self, name: str = "map-layers") -> None:
        self.name = name
        self._queue: queue.SimpleQueue[tuple[str, int, Job] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._bridge = _Bridge()
        # The PyQt6 stubs omit connect()'s connection type argument.
        self._bridge.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]
        self._busy: dict[str, Apply] = {}  # layer -> how to apply its result (GUI thread only)
        self.epochs: dict[str, int] = {}  # layer -> current epoch (GUI thread only)
        self.job_ms: dict[str, float] = {}  # layer -> worker time of its last job
        self.dropped: dict[str, int] = {}  # layer -> results dropped as superseded
        self.errors = 0
        self._logged: set[tuple[str, str]] = set()
        self._closed = False
        self._ready: list[tuple[str, int, Apply, Any]] = []  # results waiting for a round
        self._round: set[str] = set()  # layers submitted in the open round
        self._round_id = 0
        self._on_flush: Callable[[], None] | None = None  # the open round's callback

    # ---- GUI thread ------------------------------------------------------------------

    def busy(self, layer: str) -> bool:
        """A job of this layer is in flight (its result not applied yet)."""
        return layer in self._busy

    def idle(self) -> bool:
        return not self._busy

    def epoch(self, layer: str) -> int:
        return self.epochs.get(layer, 0)

    def supersede(self, layer: str) -> None:
        """The layer's data was replaced: a result still in flight will be dropped."""
        self.epochs[layer] = self.epoch(layer) + 1

    def submit(self, layer: str, job: Job, apply: Apply) -> bool:
        """Run `job()` on the worker and `apply(result)` on the GUI thread afterwards; False
        (nothing submitted) while a job of this layer is in flight, or once closed."""
        if self._closed or layer in self._busy:
            return False
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        self._busy[layer] = apply
        self._round.add(layer)
        self._queue.put((layer, self.epoch(layer), job))
        return True

    def end_round(self, then: Callable[[], None]) -> None:
        """The refresh has submitted its jobs: once they are back (at most `ROUND_S`), apply
        every result held and call `then`; right now when this round submitted nothing."""
        self._round_id += 1
        if not self._round:
            self._flush(then)
            return
        self._on_flush = then
        round_id = self._round_id
        QTimer.singleShot(max(1, round(self.ROUND_S * 1000)),
                          lambda: self._deadline(round_id))

    def _deadline(self, round_id: int) -> None:
        if round_id == self._round_id and self._on_flush is not None:
            then, self._on_flush = self._on_flush, None
            self._flush(then)

    def _flush(self, then: Callable[[], None]) -> None:
        self._round.clear()
        ready, self._ready = self._ready, []
        if self._closed:
            return
        for layer, epoch, apply, result in ready:
            if epoch == self.epoch(layer):
                apply(result)
            else:  # its data was replaced after it was taken: superseded
                self.dropped[layer] = self.dropped.get(layer, 0) + 1
        then()

    def _on_done(self, message: tuple[str, int, Any, BaseException | None, float]) -> None:
        layer, epoch, result, error, seconds = message
        apply = self._busy.pop(layer, None)
        self.job_ms[layer] = seconds * 1000
        if apply is None or self._closed:
            return
        if error is not None:
            self.errors += 1
            key = (layer, f"{type(error).__name__}: {error}")
            if key not in self._logged:
                self._logged.add(key)
                log.error("map layer %s: rebuild failed: %s", layer, key[1],
                          exc_info=(type(error), error, error.__traceback__))
        else:
            self._ready.append((layer, epoch, apply, result))
        self._round.discard(layer)
        if not self._round and self._on_flush is not None:
            then, self._on_flush = self._on_flush, None
            self._flush(then)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the thread (a job running finishes; its result is not applied)."""
        self._closed = True
        self._busy.clear()
        self._ready.clear()
        self._on_flush = None
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    # ---- the worker --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            layer, epoch, job = item
            start = time.perf_counter()
            result: Any = None
            error: BaseException | None = None
            try:
                result = job()
            except Exception as exc:  # noqa: BLE001 - a bad rebuild must not stop the map
                error = exc
            try:
                self._bridge.done.emit((layer, epoch, result, error,
                                        time.perf_counter() - start))
            except RuntimeError:
                return  # the bridge was deleted at shutdown
