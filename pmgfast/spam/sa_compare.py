"""SpamAssassin on the same folds, for the evaluation's comparison column.

For each fold, a private SpamAssassin setup under a temporary directory (never the system's
configuration or Bayes database):

- ``site/``: the system's ``*.pre`` plugin lists plus a ``local.cf`` that turns the network
  tests off (``dns_available no``, ``skip_rbl_checks``, no Razor/Pyzor/DCC), autolearn and
  auto-expiry off, and points ``bayes_path`` into the directory; rules are the installed ones
  (``--configpath`` default);
- ``sa-learn --spam`` / ``--ham`` on the four training folds (file lists through
  ``--folders``), then ``--sync``;
- ``spamd -L`` (local tests only) on a loopback port with two children, and ``spamc -c`` for
  every message of the test fold: the float score SpamAssassin computes (required_score 5).

:func:`run` returns ``{sample name: score}`` for every message. It takes minutes (SpamAssassin
spends a few hundred milliseconds per message); the evaluation prints how long.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pmgfast.spam.corpus import Sample

__all__ = ["LOCAL_CF", "available", "run"]

SYSTEM_SITE = Path("/etc/spamassassin")
LOCAL_CF = """\
required_score 5
use_bayes 1
bayes_auto_learn 0
bayes_auto_expire 0
bayes_learn_during_report 0
bayes_path {bayes}
bayes_file_mode 0777
use_auto_whitelist 0
dns_available no
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
use_dcc 0
lock_method flock
"""


def available() -> bool:
    return all(shutil.which(t) for t in ("sa-learn", "spamd", "spamc"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _site(root: Path) -> Path:
    site = root / "site"
    site.mkdir()
    for pre in sorted(SYSTEM_SITE.glob("*.pre")):
        shutil.copy(pre, site / pre.name)
    (root / "bayes").mkdir()
    (site / "local.cf").write_text(LOCAL_CF.format(bayes=root / "bayes" / "bayes"))
    (root / "user_prefs").write_text("")
    for path in (root, root / "bayes", site):
        os.chmod(path, 0o777)
    return site


def _learn(root: Path, site: Path, samples: list[Sample], spam: bool) -> None:
    listing = root / ("spam.list" if spam else "ham.list")
    listing.write_text("".join(f"{s.path}\n" for s in samples))
    subprocess.run(
        [
            "sa-learn",
            f"--siteconfigpath={site}",
            "-p",
            str(root / "user_prefs"),
            "--spam" if spam else "--ham",
            "--no-sync",
            f"--folders={listing}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _sync(root: Path, site: Path) -> None:
    subprocess.run(
        ["sa-learn", f"--siteconfigpath={site}", "-p", str(root / "user_prefs"), "--sync"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for path in (root / "bayes").iterdir():
        os.chmod(path, 0o666)


def _spamd(root: Path, site: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = [
        "spamd",
        "-L",
        f"--siteconfigpath={site}",
        "--listen",
        f"127.0.0.1:{port}",
        "--max-children=2",
        "--min-children=2",
        "--nouser-config",
        "-s",
        "stderr",
        "--pidfile",
        str(root / "spamd.pid"),
    ]
    if os.geteuid() == 0:
        cmd.append("--username=nobody")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=(root / "spamd.log").open("wb"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"spamd exited: {(root / 'spamd.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("spamd did not start within 120 s")


def _score(port: int, sample: Sample) -> float:
    out = subprocess.run(
        ["spamc", "-d", "127.0.0.1", "-p", str(port), "-c", "-s", "10000000"],
        input=sample.path.read_bytes(),
        capture_output=True,
        check=False,
    )
    text = out.stdout.decode().strip()
    try:
        return float(text.split("/")[0])
    except ValueError:
        raise RuntimeError(f"spamc gave {text!r} for {sample.name}") from None


def run(
    fold_list: list[list[Sample]],
    progress: Callable[[str], None] = lambda _: None,
    workers: int = 2,
) -> dict[str, float]:
    """SpamAssassin's score of every message, each scored with Bayes trained on the other
    folds (see the module docstring)."""
    scores: dict[str, float] = {}
    for k, test in enumerate(fold_list):
        train = [s for i, f in enumerate(fold_list) if i != k for s in f]
        with tempfile.TemporaryDirectory(prefix="pmgfast-sa-") as tmp:
            root = Path(tmp)
            site = _site(root)
            started = time.monotonic()
            _learn(root, site, [s for s in train if s.spam], True)
            _learn(root, site, [s for s in train if not s.spam], False)
            _sync(root, site)
            progress(
                f"fold {k + 1}: sa-learn on {len(train)} messages took "
                f"{time.monotonic() - started:.0f} s"
            )
            port = _free_port()
            proc = _spamd(root, site, port)
            try:
                started = time.monotonic()
                with ThreadPoolExecutor(workers) as pool:
                    found = pool.map(functools.partial(_score, port), test)
                    for sample, score in zip(test, found, strict=True):
                        scores[sample.name] = score
                progress(
                    f"fold {k + 1}: spamd scored {len(test)} messages in "
                    f"{time.monotonic() - started:.0f} s"
                )
            finally:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return scores
