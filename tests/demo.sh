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
# the default config's TLS listener needs a certificate: a self-signed one for the demo
if [ ! -f build/tls/dev.pem ] || [ ! -f build/tls/dev.key ]; then
	mkdir -p build/tls
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout build/tls/dev.key -out build/tls/dev.pem 2>/dev/null ||
		{ echo "demo: openssl could not make a certificate" >&2; exit 1; }
	echo "demo: made a self-signed development certificate: $(pwd)/build/tls/dev.pem"
fi
echo "demo: TLS certificate: $(pwd)/build/tls/dev.pem (key: build/tls/dev.key)"
sleep 0.3
echo "demo: backends web1 (9001), web2 (9002), api (9003)"
echo "demo: try  curl -i http://127.0.0.1:8080/   and   curl -i http://127.0.0.1:8080/api/echo"
echo "demo: and  curl -i --cacert build/tls/dev.pem https://localhost:8443/"
echo "demo: Ctrl-C stops pollux and the demo backends"
"$bin" -f &
pids="$pids $!"
wait $!
