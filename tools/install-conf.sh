#!/bin/sh
# meson install script: installs the example configuration as the site's
# configuration only when none is there, so an upgrade never overwrites an
# admin's settings (the Debian package marks it a conffile as well).
# usage: install-conf.sh SOURCE DEST (DEST relative to DESTDIR)
set -eu
src=$1
dest=${DESTDIR:-}$2
if [ -e "$dest" ]; then
	echo "amt-preflight: keeping existing $dest"
	exit 0
fi
mkdir -p "$(dirname "$dest")"
install -m 0644 "$src" "$dest"
