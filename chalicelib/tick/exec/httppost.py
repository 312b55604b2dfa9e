"""The httpPost node: each point or batch, as InfluxDB's JSON (`{"series": [row]}`), posted to the node's
URL or its named `[[httppost]]` endpoint; the data goes on unchanged. The request leaves through the
task's outbox and the alert queue, so it is retried until the endpoint takes it (Kapacitor posts once,
inline; chalicelib/alert/http_post.py makes the request). `.codeField()` needs the answer inline: it is
refused."""

from __future__ import annotations

from chalicelib.kit.errors import invalid
from chalicelib.tick.exec.base import Context, NodeExec
from chalicelib.tick.exec.model import Batch, Message, Point, message_row
from chalicelib.tick.exec.outputs import HttpPost
from chalicelib.tick.pipeline import Node


class HttpPostExec(NodeExec):
    def __init__(self, node: Node, ctx: Context) -> None:
        super().__init__(node, ctx)
        if node.code_field:
            raise invalid("httpPost's codeField is not supported: the post is sent after the task's run")
        # one of the two, as the pipeline's validation leaves it (the endpoint is checked at definition)
        self.url = node.urls[0] if node.urls else ""
        self.endpoint = node.endpoints[0] if node.endpoints else ""

    def _post(self, msg: Message) -> list[Message]:
        body = {"series": [message_row(msg)]}
        n = self.node
        post = HttpPost(n.name, self.url, dict(n.headers), body, n.timeout, self.endpoint)
        self.ctx.outputs.posts.append(post)
        return [msg]

    def point(self, p: Point) -> list[Message]:
        return self._post(p)

    def batch(self, b: Batch) -> list[Message]:
        return self._post(b)
