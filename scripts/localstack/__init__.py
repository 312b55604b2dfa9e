"""The local stack behind `make run`: moto as every AWS endpoint, the declared resources provisioned
on it, an event pump driving the app's Kinesis/SQS/scheduled handlers like Lambda, and the app served
over HTTP by chalice's local server. See docs/LOCAL_STACK.md."""

from .httpserver import HTTPServer, chalice_config
from .lambda_events import LambdaContext
from .motoserver import MotoServer, configure_environment, free_port
from .provision import Provisioned, provision
from .pump import EventPump, HandlerStats
from .stack import LocalStack, load_app

__all__ = [
    "EventPump",
    "HTTPServer",
    "HandlerStats",
    "LambdaContext",
    "LocalStack",
    "MotoServer",
    "Provisioned",
    "chalice_config",
    "configure_environment",
    "free_port",
    "load_app",
    "provision",
]
