-- wrk script for the post-1m scenario of tests/bench/run: every request is a POST
-- of a 1 MiB body (wrk adds the Content-Length).
wrk.method = "POST"
wrk.body = string.rep("x", 1048576)
wrk.headers["Content-Type"] = "application/octet-stream"
