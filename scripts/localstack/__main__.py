"""`python -m scripts.localstack`: run the whole app locally on moto until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from .datadir import DATA_DIR_ENV, DEFAULT_DATA_DIR, DataDirError
from .persistence import DEFAULT_COMPACT_BYTES
from .stack import APP_ENV, DEFAULT_APP, ConfigurationError, LocalStack


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.localstack", description=__doc__)
    parser.add_argument(
        "--host",
        default=os.environ.get("HOST", "127.0.0.1"),
        help="interface for the app and moto (default 127.0.0.1, env HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_env_int("PORT") or 8086,
        help="HTTP port of the app (default 8086, env PORT)",
    )
    parser.add_argument(
        "--moto-port",
        type=int,
        default=_env_int("MOTO_PORT"),
        help="port of the moto server (default: a free port, env MOTO_PORT)",
    )
    parser.add_argument(
        "--aws-endpoint",
        default=os.environ.get("TICKLESS_AWS_ENDPOINT"),
        help="use the AWS APIs served there (e.g. a stack started with --aws-only) instead of "
        "starting moto in this process (env TICKLESS_AWS_ENDPOINT)",
    )
    parser.add_argument(
        "--aws-only",
        action="store_true",
        help="serve only moto with the provisioned resources, for an app process started with "
        "--aws-endpoint (on AWS, DynamoDB and Kinesis are not in the function's process either)",
    )
    parser.add_argument(
        "--prefix",
        default=os.environ.get("TICKLESS_PREFIX"),
        help="resource name prefix (default tickless-local-, env TICKLESS_PREFIX)",
    )
    parser.add_argument(
        "--app",
        default=os.environ.get(APP_ENV) or DEFAULT_APP,
        help=f"the Chalice app as module:attribute (default {DEFAULT_APP}, env {APP_ENV})",
    )
    parser.add_argument("--stage", default="local", help="chalice stage for config and environment (local)")
    parser.add_argument(
        "--schedule-speedup",
        type=float,
        default=None,
        help="divide rate() schedule periods by this (env TICKLESS_SCHEDULE_SPEEDUP)",
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR,
        help=f"keep the AWS state (tables, streams, queues, buckets) there across restarts "
        f"(default {DEFAULT_DATA_DIR} in the current directory, env {DATA_DIR_ENV})",
    )
    parser.add_argument(
        "--ephemeral",
        action="store_true",
        help="keep nothing: state lives in memory and is gone at exit (tests, benchmarks)",
    )
    parser.add_argument(
        "--journal-limit-mb",
        type=float,
        default=DEFAULT_COMPACT_BYTES / (1 << 20),
        help="snapshot the state and empty the journal once it grows past this (default %(default)s)",
    )
    parser.add_argument(
        "--no-pump",
        action="store_true",
        help="serve HTTP but feed no event handlers: writes pile up on Kinesis (to inspect a backlog)",
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "aws_lambda_powertools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The app's Powertools logger reads LOG_LEVEL when it is imported: `--log-level` applies to it too.
    os.environ["LOG_LEVEL"] = args.log_level.upper()

    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        print(f"\nreceived {signal.Signals(signum).name}, stopping...", flush=True)
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    stack = LocalStack(
        args.app,
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        aws_endpoint=args.aws_endpoint,
        prefix=args.prefix,
        stage=args.stage,
        schedule_speedup=args.schedule_speedup,
        serve_http=not args.aws_only,
        run_pump=not args.aws_only and not args.no_pump,
        # With --aws-endpoint the state is that endpoint's: its process keeps the data directory.
        data_dir=None if args.ephemeral or args.aws_endpoint else args.data_dir,
        compact_bytes=int(args.journal_limit_mb * (1 << 20)),
    )
    try:
        stack.start()
    except (DataDirError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        if not args.aws_only:
            print(f"InfluxDB API:  {stack.url}/", flush=True)
            print(f"Kapacitor API: {stack.kapacitor_url}", flush=True)
            if stack.proxy_url is not None:
                print(f"InfluxDB Proxy API: {stack.proxy_url}/ (and {stack.url}/proxy/)", flush=True)
        print(f"AWS (moto):    {stack.moto_url}  (prefix {os.environ.get('TICKLESS_PREFIX')})", flush=True)
        persistence = stack.moto.persistence if stack.moto is not None else None
        if persistence is not None:
            replayed = f", {persistence.replayed} journaled changes replayed" if persistence.replayed else ""
            print(f"Data:          {persistence.path}  (kept across restarts{replayed})", flush=True)
        elif not args.aws_endpoint:
            print("Data:          in memory only (--ephemeral): nothing is kept at exit", flush=True)
        if args.aws_only:
            print("AWS only; start the app with --aws-endpoint. Ctrl-C to stop.", flush=True)
        else:
            print(f"Local stack ready; control: {stack.url}/_localstack/stats. Ctrl-C to stop.", flush=True)
        while not stopping.wait(1.0):
            pass
    finally:
        stack.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
