"""What the browser tests share: npm packages bundled into one script, a page origin, Debian's Chromium.

Packages are installed with npm at test time into a cache folder (tests/npm.py, one folder per
package set, kept between runs) and bundled with esbuild into a single file, so the page loads
nothing from the network. Pages are served from their own loopback port: another origin than the
fakes, as a real app's page is.
Chromium is Debian's, launched by its path; Playwright's own browser download is never used.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.npm import installed

PAGES = Path(__file__).parent / "pages"
ESBUILD_RANGE = "0.25"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing_tools() -> str | None:
    """Why the browser tests cannot run here, or None when npm and Chromium are both installed."""
    if shutil.which("npm") is None:
        return "npm is not installed (the browser tests install the SDKs with it)"
    if chromium_path() is None:
        return "Debian's chromium is not installed (apt-get install chromium)"
    return None


def chromium_path() -> str | None:
    return shutil.which("chromium")


def install_packages(packages: Mapping[str, str]) -> Path:
    """A folder whose node_modules holds `packages` (name -> version range) and esbuild."""
    specs = {**packages, "esbuild": ESBUILD_RANGE}
    name = "browser-" + hashlib.sha256(json.dumps(specs, sort_keys=True).encode()).hexdigest()[:12]
    return installed(name, specs, "the browser tests")


def bundle(
    packages: Mapping[str, str],
    entry: str,
    defines: Mapping[str, str],
    out: Path,
    sources: Mapping[str, str] | None = None,
) -> Path:
    """esbuild `entry` among the files of pages/ (plus `sources`: name -> text) into one script at `out`."""
    folder = install_packages(packages)
    src = folder / "src" / hashlib.sha256(str(out).encode()).hexdigest()[:12]
    shutil.copytree(PAGES, src, dirs_exist_ok=True)
    for name, text in (sources or {}).items():
        (src / name).write_text(text)
    flags = [f"--define:{name}={json.dumps(value)}" for name, value in defines.items()]
    esbuild = folder / "node_modules" / ".bin" / "esbuild"
    _run(
        [
            str(esbuild),
            str(src / entry),
            "--bundle",
            "--format=iife",
            "--target=es2020",
            f"--outfile={out}",
            "--log-level=warning",
            *flags,
        ],
        folder,
    )
    return out


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed in {cwd}:\n{result.stderr[-3000:]}")


class PageServer:
    """Static files (path -> (bytes, content type)) on 127.0.0.1, port 0: the app's own origin."""

    def __init__(self, files: Mapping[str, tuple[bytes, str]]) -> None:
        served = dict(files)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, ctype = served.get(self.path.split("?")[0], (b"not found", "text/plain"))
                self.send_response(200 if self.path.split("?")[0] in served else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep pytest's output to the tests
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="page-server", daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
