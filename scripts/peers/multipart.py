"""The Python peer of `make bench-peers`: the obvious callback handler on
python-multipart, timed in this process so that asking it costs nothing.

Usage: python multipart.py EVENT_FILE. For each line N read from standard
input it handles the event N times and writes the nanoseconds they took.
Each handling does what any handler must do with the event: parse it,
decode the body, split a multipart body with python-multipart, hash each
part with SHA-256 as it streams and keep its bytes (a text body: hash and
keep it).
"""

import base64
import hashlib
import json
import sys
import time

from python_multipart.multipart import MultipartParser, parse_options_header


def header_of(event, name):
    """Returns the header named name (lower case) of an event."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return ""


def handle(payload):
    """Handles one event and returns the parts it kept: (size, sha256, bytes)."""
    event = json.loads(payload)
    body = event.get("body") or ""
    body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    content_type, params = parse_options_header(header_of(event, "content-type"))
    if content_type != b"multipart/form-data":
        return [(len(body), hashlib.sha256(body).hexdigest(), body)]
    parts, current = [], {}

    def on_part_begin():
        current["hash"], current["chunks"] = hashlib.sha256(), []

    def on_part_data(data, start, end):
        chunk = data[start:end]
        current["hash"].update(chunk)
        current["chunks"].append(chunk)

    def on_part_end():
        data = b"".join(current["chunks"])
        parts.append((len(data), current["hash"].hexdigest(), data))

    parser = MultipartParser(params[b"boundary"], callbacks={
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end})
    parser.write(body)
    parser.finalize()
    return parts


def main():
    with open(sys.argv[1], "rb") as f:
        payload = f.read()
    if not handle(payload):  # warm up, and check
        raise SystemExit("no parts")
    for line in sys.stdin:
        n = int(line)
        start = time.perf_counter_ns()
        for _ in range(n):
            handle(payload)
        sys.stdout.write(f"{time.perf_counter_ns() - start}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
