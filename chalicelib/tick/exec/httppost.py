"""The httpPost node: each point or batch, as InfluxDB's JSON (`{"series": [row]}`), posted to the node's
URL; the data goes on unchanged. The request leaves through the task's outbox and the alert queue, so it
is retried until the endpoint takes it (Kapacitor posts once, inline). `.codeField()` needs the answer
inline, and named endpoints need kapacitor.conf's [[httppost]] sections: both are refused."""

from __future__ import annotations

from chalicelib.kit.errors import invalid
from chalicelib.tick.exec.base import Context, NodeExec
from chalicelib.tick.exec.model import Batch, Message, Point, message_row
from chalicelib.tick.exec.outputs import HttpPost
from chalicelib.tick.pipeline import Node


class HttpPostExec(NodeExec):
    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        if node.endpoints:
            raise invalid(f"endpoint '{node.endpoints[0]}' does not exist")
        if node.code_field:
            raise invalid("httpPost's codeField is not supported: the post is sent after the task's run")
        self.url = node.urls[0]

    def _post(self, msg: Message) -> list[Message]:
        body = {"series": [message_row(msg)]}
        post = HttpPost(self.node.name, self.url, dict(self.node.headers), body, self.node.timeout)
        self.ctx.outputs.posts.append(post)
        return [msg]

    def point(self, p: Point) -> list[Message]:
        return self._post(p)

    def batch(self, b: Batch) -> list[Message]:
        return self._post(b)
