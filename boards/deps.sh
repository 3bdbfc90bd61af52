#!/bin/sh
# Installs what a pollux build (and, with "test", its test suite) needs on Debian or Ubuntu.
# As root it runs apt-get itself; otherwise it prints the exact command and exits 1.
# Usage: boards/deps.sh build|run|test
set -eu
want=${1:-build}

pkgs_for() {
	case $1 in
	build) echo "make gcc musl-tools dpkg-dev xz-utils" ;;
	run)   echo "make gcc musl-tools dpkg-dev xz-utils python3 openssl" ;;
	test)  echo "make gcc musl-tools dpkg-dev xz-utils python3 curl clang libclang-rt-dev openssl" ;;
	*) echo "usage: $0 build|run|test" >&2; exit 2 ;;
	esac
}

# a package counts as present when dpkg says it is installed
missing=""
for p in $(pkgs_for "$want"); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
# python3 may come from elsewhere (pyenv); a working interpreter is enough
case " $missing " in *" python3 "*) command -v python3 >/dev/null 2>&1 && missing=$(echo "$missing" | sed 's/ python3//') ;; esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "pollux: missing packages:$missing" >&2
	echo "pollux: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "pollux: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
