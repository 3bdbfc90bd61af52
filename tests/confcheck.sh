#!/usr/bin/env bash
# Broken config tables must fail the build with a message naming the entry (never the
# boot). Each case edits a copy of the integration config and expects `make` to fail
# with the given text in its output. Prints "ok NAME" or "FAIL NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 2
D=build/test/conf
mkdir -p "$D"
base=tests/integration/config.h

case_() { # name, expected text, sed program
	local name=$1 want=$2 prog=$3 cfg=$D/$1.h
	sed "$prog" "$base" >"$cfg"
	if cmp -s "$cfg" "$base"; then echo "FAIL conf_$name: the edit changed nothing"; return; fi
	if make -s CONFIG="$cfg" OUT="$D/$name.bin" >"$D/$name.log" 2>&1; then
		echo "FAIL conf_$name: the build succeeded"
	elif grep -qF -- "$want" "$D/$name.log"; then
		echo "ok conf_$name"
	else
		echo "FAIL conf_$name: no \"$want\" in the build output ($D/$name.log)"
	fi
}

case_ route_unknown_pool "POOL_NOPE" 's/\.pool = POOL_DEAD }/.pool = POOL_NOPE }/'
case_ prefix_without_slash "prefix_without_slash.h: routes[3]: prefix must start with '/'" 's|"/dead/"|"dead/"|'
case_ empty_pool "pools[4]: pool has no backend" '/\.port = 19005/d'
case_ backend_not_numeric "backends[0]: address must be a numeric" '0,/"127.0.0.1", .port = 19001/s//"localhost", .port = 19001/'
case_ host_with_port "routes[0]: host must be a name" 's/"api.test"/"api.test:80"/'
case_ zero_weight "backends[1]: weight must be 1..255" 's/\.port = 19002, \.weight = 1/.port = 19002, .weight = 0/'
case_ buffer_too_small "BUF_BYTES must be 4096..65535" 's/^#define BUF_BYTES .*/#define BUF_BYTES 1024/'
case_ missing_timeout "every T_* timeout must be defined" '/^#define T_BODY/d'
case_ pools_missing_last "the pools table must name every pool" '/\[POOL_CACHE\]  = /d'
case_ pool_hole "pools[4]: pool has no name" '/\[POOL_SINK\]/d'
case_ idle_over_up_slots "IDLE_PER_BACKEND must be 0..4096 and at most UP_SLOTS" 's/^#define IDLE_PER_BACKEND .*/#define IDLE_PER_BACKEND 65/'
case_ poll_index_overflow "poll entries are indexed by 16 bits" 's/^#define SLOTS .*/#define SLOTS 40000/; s/^#define UP_SLOTS .*/#define UP_SLOTS 40000/'
case_ tls_listener_without_slots "TLS needs TLS_SLOTS and a certs table" '/^#define TLS_/d; /^static const struct conf_cert/,/^};/d'

# a config without TLS (no certs table, no TLS_SLOTS, no TLS listener) builds
sed '/^#define TLS_/d; /^static const struct conf_cert/,/^};/d; /\.tls = 1/d' "$base" >"$D/no_tls.h"
if make -s CONFIG="$D/no_tls.h" OUT="$D/no_tls.bin" >"$D/no_tls.log" 2>&1; then
	echo "ok conf_without_tls_builds"
else
	echo "FAIL conf_without_tls_builds: see $D/no_tls.log"
fi
