"""A client of the node API built on gRPC's C core (Debian's python3-grpcio), not on the project's own code.

It reads a plan (JSON) on stdin and prints one JSON result per step on stdout. The message classes come from
modules that protoc generated from the project's .proto files into the directory given as the first argument; the
calls go over mTLS with the PEM files named in the plan. A step names a method by its gRPC path, its request as
proto3 JSON, metadata pairs (a key given twice is sent as two header fields, as Go's and C's clients do), a timeout
in seconds, and for a server stream when to stop reading:

  {"name": "...", "path": "/machine.MachineService/Version", "request": {}, "metadata": [["nodes", "10.5.0.2"]],
   "timeout": 10, "stream": false, "fill": {"field": "data", "bytes": 1024} (or "file": a path), "until_hostnames": ["a", "b"],
   "max_messages": 100, "count": false}

With "count", a stream's messages are not kept but counted, with the length of their `bytes` fields, and those
fields are hashed (SHA-256) per node: "sha256": {"<hostname or empty>": "<hex>"}. With "parallel": N, a unary call
is made N times at once on the one channel; the answers are counted ("count"), the first kept, the first failure
reported.

A result is {"name", "ok": true, "messages": [...]} with each message as proto3 JSON (field names as in the .proto
files), or {"name", "ok": false, "code": "PERMISSION_DENIED", "details": "...", "messages": [...]}.
"""

import hashlib
import json
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
from google.protobuf import descriptor_pool, json_format, message_factory  # noqa: E402

# the modules register their messages and services in the default pool
import common.common_pb2  # noqa: E402,F401
import cosi.resource_pb2  # noqa: E402,F401
import cosi.state_pb2  # noqa: E402,F401
import machine.machine_pb2  # noqa: E402,F401
import security.security_pb2  # noqa: E402,F401

POOL = descriptor_pool.Default()


def message_class(descriptor):
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(POOL).GetPrototype(descriptor)


def method(path):
    service, name = path.strip("/").split("/")
    m = POOL.FindServiceByName(service).FindMethodByName(name)
    return message_class(m.input_type), message_class(m.output_type)


def to_json(msg):
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def hostname_of(msg):
    md = getattr(msg, "metadata", None)
    return md.hostname if md is not None else ""


def run_step(channel, step):
    req_cls, resp_cls = method(step["path"])
    req = json_format.ParseDict(step.get("request", {}), req_cls())
    fill = step.get("fill")
    if fill:
        data = open(fill["file"], "rb").read() if fill.get("file") else b"#" * fill["bytes"]
        setattr(req, fill["field"], data)
    metadata = [tuple(p) for p in step.get("metadata", [])]
    timeout = step.get("timeout", 10)
    out = {"name": step["name"], "messages": []}
    try:
        if not step.get("stream") and step.get("parallel"):
            call = channel.unary_unary(step["path"], request_serializer=req_cls.SerializeToString, response_deserializer=resp_cls.FromString)
            futures = [call.future(req, metadata=metadata, timeout=timeout) for _ in range(step["parallel"])]
            answers, failure = [], None
            for f in futures:
                try:
                    answers.append(f.result())
                except grpc.RpcError as e:
                    failure = failure or e
            out["count"] = len(answers)
            if answers:
                out["messages"].append(to_json(answers[0]))
            if failure:
                raise failure
        elif not step.get("stream"):
            call = channel.unary_unary(step["path"], request_serializer=req_cls.SerializeToString, response_deserializer=resp_cls.FromString)
            out["messages"].append(to_json(call(req, metadata=metadata, timeout=timeout)))
        else:
            call = channel.unary_stream(step["path"], request_serializer=req_cls.SerializeToString, response_deserializer=resp_cls.FromString)
            responses = call(req, metadata=metadata, timeout=timeout)
            wanted = set(step.get("until_hostnames", []))
            digests = {}
            seen = set()
            for msg in responses:
                if step.get("count"):
                    data = getattr(msg, "bytes", b"")
                    out["count"] = out.get("count", 0) + 1
                    out["bytes"] = out.get("bytes", 0) + len(data)
                    digests.setdefault(hostname_of(msg), hashlib.sha256()).update(data)
                else:
                    out["messages"].append(to_json(msg))
                seen.add(hostname_of(msg))
                if (wanted and wanted <= seen) or len(out["messages"]) >= step.get("max_messages", 1 << 30):
                    responses.cancel()
                    out["cancelled"] = True
                    break
            if digests:
                out["sha256"] = {h: d.hexdigest() for h, d in digests.items()}
        out["ok"] = True
    except grpc.RpcError as e:
        if out.get("cancelled"):
            out["ok"] = True
        else:
            out["ok"] = False
            out["code"] = e.code().name
            out["details"] = e.details()
    return out


def main():
    plan = json.load(sys.stdin)
    read = lambda p: open(p, "rb").read()  # noqa: E731
    tls = plan["tls"]
    creds = grpc.ssl_channel_credentials(
        root_certificates=read(tls["ca"]),
        private_key=read(tls["key"]) if tls.get("key") else None,
        certificate_chain=read(tls["crt"]) if tls.get("crt") else None,
    )
    options = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
    with grpc.secure_channel(plan["endpoint"], creds, options=options) as channel:
        for step in plan["steps"]:
            print(json.dumps(run_step(channel, step)), flush=True)


main()
