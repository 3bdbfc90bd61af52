# Sourced by tests/run and tests/boards: builds and runs every unit test.
#   unit_tests LABEL RUNNER CC [FLAGS...]
# compiles each tests/unit/test_*.c with the command CC FLAGS... and runs it, under
# RUNNER when that is not empty (a qemu-user for a board). Its lines go to $LOG, with
# LABEL after "ok " or "FAIL " when LABEL is not empty; all but the ok lines are shown.
# Needs T, LOG and say() from the caller.
UNIT_SRCS="src/http.c src/route.c src/fwd.c src/path.c src/util.c src/cachectl.c src/cache.c"

unit_tests() {
	local label=$1 runner=$2 t n rc pre
	shift 2
	pre=${label:+$label }
	for t in tests/unit/test_*.c; do
		[ -e "$t" ] || continue
		n=$(basename "$t" .c)${label:+-$label}
		# shellcheck disable=SC2086 # UNIT_SRCS is a list
		if ! "$@" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc -Itests/unit \
			-o "$T/$n" "$t" $UNIT_SRCS >"$T/$n.build.log" 2>&1; then
			say "FAIL $pre$n: does not build"
			cat "$T/$n.build.log"
			continue
		fi
		$runner "$T/$n" >"$T/$n.out" 2>&1
		rc=$?
		sed -E "s/^(ok|FAIL) /\1 $pre/" "$T/$n.out" | tee -a "$LOG" | grep -v '^ok '
		# a failing case exits non-zero with its FAIL line; no FAIL line means a crash
		[ $rc = 0 ] || grep -q '^FAIL ' "$T/$n.out" || say "FAIL $pre$n: crashed (exit $rc)"
	done
}
