"""``python -m src.api [--host H] [--port P]`` — serve the REST API with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from src.api.app import create_app
from src.data.loader import check_xml_safety
from src.services.context import get_app


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m src.api")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    args = ap.parse_args()
    check_xml_safety()
    get_app()  # fail fast on bad configuration
    uvicorn.run(create_app(), host=args.host, port=args.port, server_header=False, proxy_headers=False)


if __name__ == "__main__":
    main()
