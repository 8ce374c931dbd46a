"""sha256 over a requirements FILE and, recursively, every file it pulls in with -r /
--requirement or -c / --constraint (paths relative to the including file), in a stable
order. scripts/bootstrap.sh reinstalls .venv only when this digest changed.

    python3 scripts/requirements_digest.py FILE

Runs on the interpreter that creates .venv, before anything is installed: standard
library only.
"""

import hashlib
import pathlib
import re
import sys

INCLUDE = re.compile(r"^\s*(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+)(\S+)")
digest = hashlib.sha256()
seen: set[pathlib.Path] = set()


def add(path: pathlib.Path) -> None:
    path = path.resolve()
    if path in seen:
        return
    seen.add(path)
    data = path.read_bytes()
    digest.update(str(path.name).encode() + b"\0" + hashlib.sha256(data).digest())
    for line in data.decode("utf-8", "replace").splitlines():
        match = INCLUDE.match(line)
        if match:
            add(path.parent / match.group(1))


try:
    add(pathlib.Path(sys.argv[1]))
except OSError as error:
    sys.exit(f"bootstrap: {error}")
print(digest.hexdigest())
