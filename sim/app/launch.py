"""``nsim-app``: start the planner's web app on this machine, or serve it to a team.

``nsim-app`` opens it at http://localhost:8501 in the default browser.
``nsim-app --address 0.0.0.0 --port 8080 --data /srv/nsim`` serves it to a
team: every browser session then works in its own folder under ``--data``
(see :mod:`sim.app.workspace`), uploads are limited to 5 MB, and an error never
shows a traceback on the page (Streamlit's ``client.showErrorDetails=none``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: largest upload Streamlit accepts, in MB (the practice reader has its own limit too)
MAX_UPLOAD_MB = 5


def options(args: argparse.Namespace) -> list[str]:
    """Streamlit's command line for these options."""
    script = Path(__file__).with_name("streamlit_app.py")
    return [
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--server.headless",
        "true" if args.headless else "false",
        "--server.maxUploadSize",
        str(MAX_UPLOAD_MB),
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.showErrorDetails",
        "none",
        "--client.toolbarMode",
        "minimal",
        "--browser.gatherUsageStats",
        "false",
        "--theme.base",
        "light",
    ]


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``nsim-app``."""
    parser = argparse.ArgumentParser(
        prog="nsim-app", description="The neighbourhood-sim web app for planners."
    )
    parser.add_argument("--port", type=int, default=8501, help="port to serve on (8501)")
    parser.add_argument(
        "--address", default="localhost", help="address to serve on; 0.0.0.0 serves a team"
    )
    parser.add_argument(
        "--data", type=Path, default=None, help="folder for sessions and the shared library"
    )
    parser.add_argument(
        "--headless", action="store_true", help="do not open a browser (on a server)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        print(f"nsim-app: --port {args.port}: a port from 1 to 65535", file=sys.stderr)
        sys.exit(2)
    try:
        from streamlit.web import cli as stcli
    except ImportError:
        print("nsim-app: the web app needs its extra: pip install -e '.[app]'", file=sys.stderr)
        sys.exit(2)
    from sim.app.workspace import default_root, prune

    if args.data is not None:
        os.environ["NSIM_APP_DATA"] = str(args.data.resolve())
    root = default_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"nsim-app: --data {root}: a folder that can be written ({exc})", file=sys.stderr)
        sys.exit(2)
    os.environ["NSIM_APP_DATA"] = str(root)
    prune(root)
    sys.argv = options(args)
    sys.exit(stcli.main())


if __name__ == "__main__":
    main()
