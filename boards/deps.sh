#!/bin/sh
# Installs what a pollux build (and, with "test", its test suite) needs on Debian or Ubuntu.
# As root it runs apt-get itself; otherwise it prints the exact command and exits 1.
# Usage: boards/deps.sh build|run|test|boards
set -eu
want=${1:-build}

pkgs_for() {
	case $1 in
	build) echo "make gcc musl-tools dpkg-dev xz-utils" ;;
	run)   echo "make gcc musl-tools dpkg-dev xz-utils python3 openssl" ;;
	test)  echo "make gcc musl-tools dpkg-dev xz-utils python3 curl clang libclang-rt-dev openssl" \
		"sslscan" ;;
	boards) echo "make gcc musl-tools dpkg-dev xz-utils python3 curl openssl qemu-user-static" \
		"gcc-arm-linux-gnueabihf musl-dev:armhf gcc-aarch64-linux-gnu musl-dev:arm64" \
		"gcc-mipsel-linux-gnu musl-dev:mipsel" ;;
	*) echo "usage: $0 build|run|test|boards" >&2; exit 2 ;;
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

# packages of another architecture (name:arch) need that architecture enabled first
arches=$(echo "$missing" | tr ' ' '\n' | sed -n 's/.*:\(.*\)/\1/p' | sort -u)

if [ "$(id -u)" != 0 ]; then
	for a in $arches; do echo "pollux: run as root:  dpkg --add-architecture $a" >&2; done
	echo "pollux: missing packages:$missing" >&2
	echo "pollux: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "pollux: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
for a in $arches; do dpkg --add-architecture "$a"; done
apt-get update -qq || true     # a mirror's passing index error must not stop the install
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null
