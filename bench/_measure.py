"""Run a command and print its own resource usage: ``python bench/_measure.py CMD ARGS...``.

Why a launcher: on Linux a child's ``ru_maxrss`` starts at the peak RSS of the process that
spawned it (``exec`` keeps the old address space's high-water mark, and ``fork`` / ``vfork``
start from the parent's pages), so a child spawned by ``bench/compare.py`` (tens of MiB and
growing) would report at least the orchestrator's peak. This launcher is a fresh interpreter
that imports nothing but ``os``, ``sys`` and ``json`` (about 9 MiB, below any measured
child), spawns the command, reaps it with ``os.wait4`` and prints, after the command's own
output, one line ``RUSAGE {"utime": s, "stime": s, "maxrss": bytes}``. It exits with the
command's status (128 + signal if it was killed).
"""

import json
import os
import sys


def main() -> int:
    argv = sys.argv[1:]
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    line = {"utime": usage.ru_utime, "stime": usage.ru_stime, "maxrss": usage.ru_maxrss * 1024}
    sys.stdout.write("RUSAGE " + json.dumps(line) + "\n")
    sys.stdout.flush()
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
