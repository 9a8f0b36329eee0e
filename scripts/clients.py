"""Generate the Python and TypeScript clients from openapi/openapi.json and type-check them.

`make clients` runs this after `npm ci` in clients/. Any warning from a generator fails the run:
a warning means a model or an operation was dropped or left untyped in some client. The output
goes to build/clients/ (ignored by git); nothing generated is committed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi" / "openapi.json"
CLIENTS = ROOT / "clients"
OUT = ROOT / "build" / "clients"
BIN = Path(sys.executable).parent
NODE_BIN = CLIENTS / "node_modules" / ".bin"
PACKAGE = "ntm_api_client"


def python_client_command(document: Path, output: Path) -> list[str]:
    """The generator's command line (shared with the live round-trip test)."""
    return [
        str(BIN / "openapi-python-client"),
        "generate",
        "--path",
        str(document),
        "--config",
        str(CLIENTS / "openapi-python-client.yaml"),
        "--custom-template-path",
        str(CLIENTS / "templates"),
        "--meta",
        "none",
        "--output-path",
        str(output),
    ]


def run(command: list[str], *, cwd: Path = ROOT) -> str:
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    print(output, end="", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {command[0]}")
    return output


def warnings_in(output: str, allowed_prefixes: tuple[str, ...]) -> list[str]:
    return [
        line
        for line in output.splitlines()
        if line.strip() and not line.strip().startswith(allowed_prefixes)
    ]


def main() -> int:
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "python").mkdir(parents=True)
    (OUT / "typescript").mkdir(parents=True)

    output = run(python_client_command(DOCUMENT, OUT / "python" / PACKAGE))
    # The generator's only normal line is "Generating <path>"; anything else is a warning.
    if noise := warnings_in(output, ("Generating ",)):
        raise SystemExit("openapi-python-client warned:\n" + "\n".join(noise))
    run(
        [
            str(BIN / "mypy"),
            "--strict",
            "--config-file",
            str(CLIENTS / "mypy.ini"),
            PACKAGE,
        ],
        cwd=OUT / "python",
    )

    target = OUT / "typescript" / "ntm-api.d.ts"
    output = run([str(NODE_BIN / "openapi-typescript"), str(DOCUMENT), "-o", str(target)])
    # Its normal lines are the banner ("✨ openapi-typescript x.y") and the "🚀 a → b" line.
    if noise := warnings_in(output, ("✨", "🚀")):
        raise SystemExit("openapi-typescript warned:\n" + "\n".join(noise))
    run([str(NODE_BIN / "tsc"), "-p", str(CLIENTS / "tsconfig.json")])
    print("clients: generated and type-checked without warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
