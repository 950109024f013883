#!/usr/bin/env python3
"""Redeem a share over keep-alive connections, one unique User-Agent per request, and record
what each request got, so a test can match every 200 the client received to its history entry.

    share_load.py PORT TOKEN_FILE PREFIX CONNECTIONS OUT [MAX_SECONDS]

CONNECTIONS threads each keep one HTTP/1.1 connection to 127.0.0.1:PORT and send
`GET /v1/share` with User-Agent PREFIX-<connection>-<n>. A request counts as a 200 only when
its whole response (status line, headers, body) arrived. The run ends when the server is gone
(a reconnect is refused) or after MAX_SECONDS (default 60). OUT gets one line per request:
"<user agent> <status>", the status being "error" when no whole response arrived. OUT.started
appears once the first 200 has arrived, so a caller knows the load is on.
"""
import http.client
import sys
import threading
import time

port, token_file, prefix, connections, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
max_seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 60.0
with open(token_file) as f:
    token = f.read().strip()
deadline = time.monotonic() + max_seconds
results = [[] for _ in range(connections)]
started = threading.Event()


def worker(k):
    conn, n, log = None, 0, results[k]
    while time.monotonic() < deadline:
        agent = f"{prefix}-{k}-{n}"
        n += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
                conn.connect()
        except OSError:
            return  # the server is gone: this connection's run is over
        try:
            conn.request("GET", "/v1/share", headers={"Authorization": "Bearer " + token, "User-Agent": agent})
            response = conn.getresponse()
            response.read()
            log.append((agent, str(response.status)))
            if response.status == 200 and not started.is_set():
                started.set()
                open(out + ".started", "w").close()
        except (OSError, http.client.HTTPException):
            log.append((agent, "error"))
            conn.close()
            conn = None


threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out, "w") as f:
    for log in results:
        for agent, status in log:
            f.write(f"{agent} {status}\n")
