#!/usr/bin/env bash
# Static tables cost only the pages a connection touched: pollux built with a big client
# table (SLOTS 8192, UP_SLOTS 8192), after a plain request, a TLS request and a stats page,
# idling through ten 100 ms sweeps, must stay far below the table's own size. A scan that
# read every slot (the sweep, the stats page, the per-address count) would make the whole
# table resident. Prints "ok NAME" or "FAIL NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 2
D=build/test/conf
mkdir -p "$D"
cfg=$D/big_table.h bin=$D/big_table.bin log=$D/big_table.stderr
name=footprint_idle_rss_with_8192_slots

sed 's/^#define SLOTS .*/#define SLOTS 8192/; s/^#define UP_SLOTS .*/#define UP_SLOTS 8192/' \
	tests/integration/config.h >"$cfg"
if ! make -s CONFIG="$cfg" OUT="$bin" >"$D/big_table.log" 2>&1; then
	echo "FAIL $name: does not build ($D/big_table.log)"; exit 0
fi
err=$(python3 -c 'import sys; sys.path.insert(0, "tests/integration"); import run
e = run.make_certs(); print(e or "")')
[ -z "$err" ] || { echo "FAIL $name: $err"; exit 0; }

"$bin" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 100); do
	curl -s -o /dev/null http://127.0.0.1:18099/ && break
	sleep 0.05
done
curl -s -o /dev/null -H 'Host: nowhere.test' http://127.0.0.1:18080/
curl -sk -o /dev/null https://127.0.0.1:18443/
curl -s -o /dev/null http://127.0.0.1:18099/metrics
sleep 1
rss=$(awk '/^VmRSS:/ { print $2 }' /proc/$pid/status 2>/dev/null)
# struct conn is over 500 bytes: 8192 of them are over 4 MiB, the backend table more
limit=2048
if [ -z "$rss" ]; then
	echo "FAIL $name: pollux is not running (see $log)"
elif [ "$rss" -ge "$limit" ]; then
	echo "FAIL $name: VmRSS $rss kB after ten idle sweeps (limit $limit kB)"
else
	echo "ok $name ($rss kB)"
fi
