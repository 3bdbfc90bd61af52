#!/bin/sh
# make run: starts demo backends on 127.0.0.1:9001, 9002 and 9003 (where nothing
# listens yet), then pollux in the foreground with the default config. Ctrl-C stops
# everything this script started.
set -u
bin=${1:-./pollux}
here=$(cd "$(dirname "$0")" && pwd)
pids=""

listening() { # port: 0 when something accepts connections there
	python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.3); sys.exit(s.connect_ex(('127.0.0.1', $1)) != 0)"
}

cleanup() {
	[ -n "$pids" ] && kill $pids 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT INT TERM

for spec in 9001:web1 9002:web2 9003:api; do
	port=${spec%%:*}; name=${spec#*:}
	if listening "$port"; then
		echo "demo: something already listens on 127.0.0.1:$port; using it"
		continue
	fi
	python3 "$here/backend.py" --port "$port" --name "$name" >/dev/null 2>&1 &
	pids="$pids $!"
done
sleep 0.3
echo "demo: backends web1 (9001), web2 (9002), api (9003)"
echo "demo: try  curl -i http://127.0.0.1:8080/   and   curl -i http://127.0.0.1:8080/api/echo"
echo "demo: Ctrl-C stops pollux and the demo backends"
"$bin" -f &
pids="$pids $!"
wait $!
