#!/bin/sh
# Puts BearSSL's source tree at $1 (an ignored build directory), from the distribution's
# source packages: `apt-get source bearssl`, enabling deb-src entries when there are none.
# Nothing of BearSSL is committed; BEARSSL_SRC=dir on the make command line skips this.
set -eu
dest=$1
[ -f "$dest/inc/bearssl.h" ] && exit 0

has_debsrc() {
	grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/
}

if ! has_debsrc; then
	if [ "$(id -u)" != 0 ]; then
		echo "pollux: no deb-src entries; as root add them, or pass BEARSSL_SRC=dir" >&2
		exit 1
	fi
	# mirror the binary entries as source entries, in a file of our own
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
			>/etc/apt/sources.list.d/pollux-src.sources
	else
		grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | sed 's/^deb /deb-src /' \
			>/etc/apt/sources.list.d/pollux-src.list
	fi
	apt-get update -qq
fi
command -v dpkg-source >/dev/null || { echo "pollux: dpkg-source missing (apt-get install dpkg-dev)" >&2; exit 1; }

tmp=$(mktemp -d "${dest%/*}/.bearssl.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get source -qq bearssl >/dev/null 2>&1) || {
	echo "pollux: apt-get source bearssl failed; pass BEARSSL_SRC=dir" >&2; exit 1; }
src=$(find "$tmp" -maxdepth 1 -type d -name 'bearssl-*' | head -n 1)
[ -f "$src/inc/bearssl.h" ] || { echo "pollux: unexpected bearssl source layout" >&2; exit 1; }
rm -rf "$dest"
mv "$src" "$dest"
echo "pollux: BearSSL source in $dest" >&2
