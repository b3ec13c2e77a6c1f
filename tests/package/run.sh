#!/usr/bin/env bash
# Builds the Debian package from this tree and checks it as an admin would install it:
# the files and their places, the conffile, the binary run from a throw-away root,
# the systemd units verified, lintian without errors; and `meson install` keeping an
# existing site configuration. Everything happens in one temporary directory, removed
# at the end. Last line: "N passed, N failed".
# usage: tests/package/run.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
src=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/apf-package-XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && tail -20 "$2"; failed=$((failed + 1)); }
check() { # check NAME command...
	local name=$1
	shift
	if "$@" >"$work/last.log" 2>&1; then ok "$name"; else bad "$name" "$work/last.log"; fi
}

# The tree as it is (committed or not), without build directories.
mkdir "$work/amt-preflight"
git ls-files -co --exclude-standard -z | tar -c --null -T - | tar -x -C "$work/amt-preflight"
if (cd "$work/amt-preflight" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	bad "dpkg-buildpackage -us -uc -b" "$work/build.log"
	echo "$passed passed, $failed failed"
	exit 1
fi
deb=$(ls "$work"/amt-preflight_*_*.deb | grep -v dbgsym)
dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/bin/amt-preflight /usr/share/man/man1/amt-preflight.1.gz /etc/amt-preflight/amt-preflight.conf \
	/usr/share/amt-preflight/amt-root-hashes.csv /usr/share/amt-preflight/example.conf \
	/usr/share/amt-preflight/icinga2/command-amt-preflight.conf /lib/systemd/system/amt-preflight-audit.service \
	/lib/systemd/system/amt-preflight-audit.timer /usr/lib/sysusers.d/amt-preflight.conf; do
	check "package holds $f" grep -qx "$f" "$work/contents"
done
dpkg-deb -e "$deb" "$work/control"
check "the site configuration is a conffile" grep -qx /etc/amt-preflight/amt-preflight.conf "$work/control/conffiles"

# Installed into a throw-away root: the binary runs from there.
mkdir "$work/root"
dpkg -x "$deb" "$work/root"
check "installed binary: --version" sh -c "'$work/root/usr/bin/amt-preflight' --version | grep -q '^amt-preflight '"
check "installed binary: list" sh -c "'$work/root/usr/bin/amt-preflight' list | grep -q '^cert.provisioning '"
check "installed binary: explain" "$work/root/usr/bin/amt-preflight" explain CA_TEMPLATE_PEND_ALL
# Without -c it reads the installed configuration's path (absent on this machine unless installed).
if [ ! -e /etc/amt-preflight/amt-preflight.conf ]; then
	check "no -c: names the default configuration" sh -c \
		"'$work/root/usr/bin/amt-preflight' run 2>&1 | grep -q /etc/amt-preflight/amt-preflight.conf"
fi

# systemd: the units verify against the packaged binary (the root gets the
# system's targets so that dependencies resolve).
cp -n /lib/systemd/system/*.target /lib/systemd/system/*.slice "$work/root/lib/systemd/system/" 2>/dev/null
check "systemd-analyze verify (service, timer)" systemd-analyze verify --man=no --root="$work/root" \
	/lib/systemd/system/amt-preflight-audit.service /lib/systemd/system/amt-preflight-audit.timer
# and catch a broken one: the test must be able to fail
sed 's/^OnCalendar=.*/OnCalendar=*-*-* 25:99/' "$work/root/lib/systemd/system/amt-preflight-audit.timer" \
	>"$work/root/lib/systemd/system/broken.timer"
if systemd-analyze verify --man=no --root="$work/root" /lib/systemd/system/broken.timer >/dev/null 2>&1; then
	bad "systemd-analyze verify rejects a broken timer"
else
	ok "systemd-analyze verify rejects a broken timer"
fi

# lintian: no errors (warnings are printed)
if command -v lintian >/dev/null; then
	# lintian leaves a temporary database behind: keep it in our work directory
	if TMPDIR=$work lintian --fail-on error "$deb" >"$work/lintian.log" 2>&1; then
		ok "lintian: no errors"
	else
		bad "lintian: no errors" "$work/lintian.log"
	fi
	grep -E '^[WE]:' "$work/lintian.log" || true
fi

# meson install: the site's configuration survives a reinstall.
dest=$work/destdir
if meson setup "$work/mbuild" "$src" --prefix=/usr --sysconfdir=/etc -Dtests=disabled -Dfuzz=disabled >"$work/m.log" 2>&1 &&
	ninja -C "$work/mbuild" >>"$work/m.log" 2>&1 && DESTDIR=$dest meson install -C "$work/mbuild" >>"$work/m.log" 2>&1; then
	ok "meson install"
	echo "name = edited by the site" >>"$dest/etc/amt-preflight/amt-preflight.conf"
	DESTDIR=$dest meson install -C "$work/mbuild" >>"$work/m.log" 2>&1
	check "meson install keeps an existing configuration" grep -q "edited by the site" "$dest/etc/amt-preflight/amt-preflight.conf"
	check "meson install: units and Icinga files" test -f "$dest/usr/share/amt-preflight/icinga2/example-distributed.conf"
else
	bad "meson install" "$work/m.log"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
