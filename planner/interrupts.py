"""SIGINT and SIGTERM: one exception per process, raised where it cannot break what runs.

`install` makes the first SIGINT or SIGTERM an exception in the main thread (`Interrupted` for
the command line, `planner.cli.main`); the `finally` blocks and context managers it unwinds
through discard the staging folder. Two things broke that clean-up (issue #12: two SIGINTs
about 30 ms apart while a 100,000-person run was verified segfaulted, or left a
`.NAME.xxxx.tmp` folder, in 7 of 79 trials):

* A second signal raised a second exception inside the clean-up of the first: inside pandas'
  `with ThreadPoolExecutor(...)` exit, which was waiting for its parse threads, so the memory
  map they parse was closed under them (segfault); or inside the removal of the staging folder.
  The first signal now makes every later one ignored: the handler stays installed and does
  nothing (SIG_IGN instead made CPython print "Signal 15 ignored due to race condition" with a
  traceback when the second signal was already pending). A run's clean-up takes milliseconds,
  and SIGKILL remains for a process that does not end.
* Even one signal could do it: raised in pandas' threaded `read_csv` while it was starting a
  parse thread (`Thread.start` waits for it), it left a thread the pool did not know about,
  still parsing the map that was then closed. pandas is not written to survive an exception
  raised at any point inside it, so a signal that arrives while pandas code runs on the main
  thread is raised when the outermost pandas call returns (or unwinds) instead: that frame's
  return is traced, as pdb traces the frames that already run (at most the rest of one read,
  a fraction of a second at 300,000 persons). Elsewhere it is raised at once, as before.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Libraries whose code must not see an exception raised at an arbitrary point of it (above).
DEFER_IN = frozenset({"pandas"})

_received: list[int] = []  # the signal that interrupted this process, once one has
_ignoring: list[bool] = []  # non-empty: signals change nothing any more


class Interrupted(BaseException):
    """SIGINT or SIGTERM. Not a KeyboardInterrupt, which click turns into "Aborted!" and exit 1,
    and not an Exception, so no `except Exception` swallows it; `finally` blocks still run (the
    staging folder is discarded), unlike with Python's default SIGTERM, which ends the process
    at once and left `.NAME.xxxx.tmp` folders beside the results."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum  # the shell's convention: 130 SIGINT, 143 SIGTERM


def install(exception: Callable[[int], BaseException] = Interrupted) -> None:
    """SIGINT and SIGTERM raise `exception(signum)` in the main thread, once (call it from
    there; a forked process installs its own, forgetting its parent's signal)."""
    _received.clear()
    _ignoring.clear()

    def handler(signum: int, frame: FrameType | None) -> None:
        if _ignoring:  # a later signal: the first one's clean-up, or the end, is under way
            return
        _received.append(signum)
        ignore()
        _raise_when_safe(exception(signum), frame)

    for signum in SIGNALS:
        signal.signal(signum, handler)


def ignore() -> None:
    """SIGINT and SIGTERM change nothing from now on (while cleaning up, once the command is
    done). The handler stays: a signal already pending when the disposition became SIG_IGN
    made CPython print "Signal N ignored due to race condition" and a traceback."""
    _ignoring.append(True)


def received() -> int | None:
    """The signal that interrupted this process, if one has."""
    return _received[0] if _received else None


def _outermost_deferred(frame: FrameType | None) -> FrameType | None:
    """The outermost frame of the stack that runs code of a DEFER_IN library, if any."""
    found = None
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).partition(".")[0] in DEFER_IN:
            found = frame
        frame = frame.f_back
    return found


def _raise_when_safe(exc: BaseException, frame: FrameType | None) -> None:
    library = _outermost_deferred(frame)
    if library is None:
        raise exc

    def on_event(traced: FrameType, event: str, _arg: Any) -> Any:
        if event == "return" and traced is library:  # returns, or unwinds with an exception
            sys.settrace(None)
            raise exc
        return on_event

    # Only the library's frame is traced (no line events); new frames are not (the global
    # function returns None), so the rest of the call runs at nearly full speed.
    library.f_trace_lines = False
    library.f_trace = on_event
    sys.settrace(_untraced)


def _untraced(_frame: FrameType, _event: str, _arg: Any) -> None:
    return None
