#!/usr/bin/env bash
# The .deb end to end, on this machine: cpack builds it, dpkg installs it (system user,
# state directory, conffile, unit), a reinstall keeps a changed conffile, the installed
# vigild runs as `vigil` without systemd on the embedded broker until /readyz answers 200
# and drains on SIGTERM, `dpkg -r` keeps configuration, state and user, and `dpkg --purge`
# removes everything. Needs root (dpkg installs system-wide); release build only (label
# deb, RUN_SERIAL; the ASan preset skips it).
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
source "$src/tests/cli/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "deb_test: must run as root: it installs and purges the vigil package with dpkg" >&2
  echo "deb_test: run it as root, or exclude it: ctest -LE deb" >&2
  exit 1
fi
for tool in cpack dpkg dpkg-deb dpkg-query setpriv flock curl getent; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deb_test: $tool not found on PATH" >&2; exit 1; }
done

work=$(mktemp -d)
daemon_pid=
# Another checkout running this test at the same time would install the same package.
exec 9>/tmp/vigil-deb-test.lock
flock -w 300 9 || { echo "deb_test: another deb_test holds /tmp/vigil-deb-test.lock" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' vigil 2>/dev/null | grep -qv "not-installed"; }
# dpkg with a bounded wait for its lock, which apt-get elsewhere on the machine may hold.
dpkg_locked() {
  local until=$((SECONDS + 300)) rc
  while :; do
    DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold "$@" >"$work/dpkg.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] || ! grep -q "locked by another process" "$work/dpkg.out" || [ $SECONDS -ge $until ] && break
    sleep 1
  done
  cat "$work/dpkg.out"
  return $rc
}
cleanup() {
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
  installed && dpkg_locked --purge vigil >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A previous run that died half-way may have left the package installed.
if installed; then
  echo "deb_test: purging a vigil package left installed"
  dpkg_locked --purge vigil >/dev/null || { echo "deb_test: cannot purge the old vigil package" >&2; exit 1; }
fi

version=$(sed -n 's/^project(vigil VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
deb="$work/pkg/vigil_${version}_amd64.deb"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1
check "cpack builds vigil_${version}_amd64.deb" test -f "$deb"
[ -f "$deb" ] || { cat "$work/cpack.log"; finish; exit 1; }

check "control: package vigil" test "$(dpkg-deb -f "$deb" Package)" = vigil
check "control: version $version" test "$(dpkg-deb -f "$deb" Version)" = "$version"
check "control: architecture amd64" test "$(dpkg-deb -f "$deb" Architecture)" = amd64
depends=$(dpkg-deb -f "$deb" Depends)
check "Depends has the engines' libraries (dpkg-shlibdeps)" \
  grep -Eq "libhyperscan5.*librdkafka\+\+1.*libre2-" <<<"$depends"
check "Depends has adduser (postinst)" grep -Eq "^adduser," <<<"$depends"
check "conffiles lists /etc/vigil/vigil.yaml" \
  test "$(dpkg-deb -I "$deb" conffiles 2>/dev/null)" = /etc/vigil/vigil.yaml
dpkg-deb -c "$deb" >"$work/contents"
check "every file is root's" bash -c "! awk '{print \$2}' '$work/contents' | grep -v '^root/root$'"

# Install.
dpkg_locked -i "$deb" >"$work/install.log"
check "dpkg -i succeeds" test $? -eq 0
check "installed" installed
check "vigild installed, 0755 root" test "$(stat -c '%a %U' /usr/bin/vigild 2>&1)" = "755 root"
check "vigilctl installed, 0755 root" test "$(stat -c '%a %U' /usr/bin/vigilctl 2>&1)" = "755 root"
check "vigild --version is this version and names RE2" \
  grep -Eq "^vigild $version \(Hyperscan [^,]+, RE2 [^,]+, librdkafka [^)]+\)$" <<<"$(/usr/bin/vigild --version 2>&1)"
packs=$(cd "$src/rules/packs" && ls -- *.yaml)
check "every rule pack is in /usr/share/vigil/rules" \
  test "$(cd /usr/share/vigil/rules 2>/dev/null && ls -- *.yaml)" = "$packs"
check "the installed packs pass their examples" \
  grep -Eq "[1-9][0-9]* passed, 0 failed" <<<"$(/usr/bin/vigilctl rules test /usr/share/vigil/rules 2>&1)"
check "/etc/vigil/vigil.yaml is the packaged config" cmp -s /etc/vigil/vigil.yaml "$src/packaging/vigil.yaml"
check "/etc/vigil/vigil.yaml is a conffile" \
  grep -q "/etc/vigil/vigil.yaml" <<<"$(dpkg-query -W -f='${Conffiles}' vigil)"
check "an example paging file" test -f /usr/share/doc/vigil/examples/paging.yaml
check "copyright and changelog" test -f /usr/share/doc/vigil/copyright -a -f /usr/share/doc/vigil/changelog.gz
check "the docs for SREs" test -f /usr/share/doc/vigil/operations.md -a -f /usr/share/doc/vigil/security.md
check "the Prometheus alert rules" cmp -s /usr/share/vigil/prometheus/vigil-alerts.yml \
  "$src/packaging/prometheus/vigil-alerts.yml"
check "the Grafana dashboard" cmp -s /usr/share/vigil/grafana/vigil.json "$src/packaging/grafana/vigil.json"
check "manual pages" test -f /usr/share/man/man1/vigild.1.gz -a -f /usr/share/man/man1/vigilctl.1.gz
unit=/lib/systemd/system/vigild.service
check "the unit is installed" test -f "$unit"
check "the unit runs vigild as vigil with the packaged config" \
  grep -qx "ExecStart=/usr/bin/vigild --config /etc/vigil/vigil.yaml" "$unit"
check "user vigil is a system user with no login" \
  grep -Eq "^vigil:x:[0-9]+:[0-9]+:[^:]*:/var/lib/vigil:/usr/sbin/nologin$" <<<"$(getent passwd vigil)"
check "group vigil" bash -c "getent group vigil >/dev/null"
check "/var/lib/vigil is vigil:vigil 0750" test "$(stat -c '%U:%G %a' /var/lib/vigil 2>&1)" = "vigil:vigil 750"
if command -v deb-systemd-helper >/dev/null 2>&1; then
  check "the unit is enabled (deb-systemd-helper)" test -L /etc/systemd/system/multi-user.target.wants/vigild.service
fi
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit" >"$work/verify" 2>&1
  check "systemd-analyze verify passes on the unit" test $? -eq 0
  grep -v "^$" "$work/verify"
fi
if [ -d /run/systemd/system ]; then
  # systemd started the unit on install; it would share /var/lib/vigil with the daemon below.
  check "systemd has the unit enabled" test "$(systemctl is-enabled vigild 2>&1)" = enabled
  systemctl stop vigild
fi

# A reinstall (an upgrade to the same version) keeps the user, the state directory and a
# changed conffile.
echo "# changed by deb_test" >>/etc/vigil/vigil.yaml
uid=$(id -u vigil)
dpkg_locked -i "$deb" >"$work/reinstall.log"
check "a reinstall succeeds" test $? -eq 0
check "a reinstall keeps the changed conffile" grep -q "changed by deb_test" /etc/vigil/vigil.yaml
check "a reinstall keeps user vigil" test "$(id -u vigil 2>&1)" = "$uid"
check "a reinstall keeps /var/lib/vigil vigil:vigil 0750" \
  test "$(stat -c '%U:%G %a' /var/lib/vigil 2>&1)" = "vigil:vigil 750"
[ -d /run/systemd/system ] && systemctl stop vigild

# The installed daemon as vigil, without systemd, on the embedded broker and a free port.
# setpriv executes vigild in place, so $! is vigild itself.
(cd / && exec setpriv --reuid=vigil --regid=vigil --init-groups --inh-caps=-all --no-new-privs \
  /usr/bin/vigild --config /etc/vigil/vigil.yaml --set kafka.brokers=embedded \
  --set http.listen=127.0.0.1:0) >"$work/daemon.log" 2>&1 &
daemon_pid=$!
listening() { grep -q "http: listening on 127.0.0.1:[0-9]" "$work/daemon.log"; }
wait_for 60 listening
port=$(grep -o "http: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | grep -o "[0-9]*$")
check "the installed vigild listens" test -n "$port"
ready() { test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200; }
if [ -n "$port" ]; then
  wait_for 60 ready
  check "/readyz answers 200" ready
fi
check "vigild runs as vigil" test "$(stat -c %U "/proc/$daemon_pid" 2>&1)" = vigil
check "the state store is in /var/lib/vigil, vigil's" test "$(stat -c %U /var/lib/vigil/vigil.db 2>&1)" = vigil
check "the state store is /var/lib/vigil/vigil.db" grep -q "state store: /var/lib/vigil/vigil.db" "$work/daemon.log"
check "the rules are loaded from /usr/share/vigil/rules" python3 -c '
import json, sys, urllib.request
rules = json.load(urllib.request.urlopen(sys.argv[1]))["rules"]
sys.exit(0 if rules["paths"] == ["/usr/share/vigil/rules"] and rules["count"] > 0 else 1)' \
  "http://127.0.0.1:$port/api/v1/status"
kill -TERM "$daemon_pid"
gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
wait_for 60 gone
check "SIGTERM stops vigild" gone
if gone; then
  wait "$daemon_pid"
  check "vigild exits 0 on SIGTERM" test $? -eq 0
  daemon_pid=
fi

# Remove keeps configuration, state and user; purge removes them.
dpkg_locked -r vigil >"$work/remove.log"
check "dpkg -r succeeds" test $? -eq 0
check "remove deletes the binaries" test ! -e /usr/bin/vigild -a ! -e /usr/bin/vigilctl
check "remove deletes the unit" test ! -e "$unit"
check "remove keeps the configuration" test -f /etc/vigil/vigil.yaml
check "remove keeps the state" test -f /var/lib/vigil/vigil.db
check "remove keeps user vigil" bash -c "getent passwd vigil >/dev/null"
dpkg_locked --purge vigil >"$work/purge.log"
check "dpkg --purge succeeds" test $? -eq 0
check "purged" bash -c "! dpkg-query -W -f='\${Status}' vigil 2>/dev/null | grep -q installed"
check "purge deletes /etc/vigil" test ! -e /etc/vigil
check "purge deletes /usr/share/vigil" test ! -e /usr/share/vigil
check "purge deletes /var/lib/vigil" test ! -e /var/lib/vigil
check "purge deletes user vigil" bash -c "! getent passwd vigil"
check "purge deletes group vigil" bash -c "! getent group vigil"
check "purge deletes the unit's enablement" test ! -e /etc/systemd/system/multi-user.target.wants/vigild.service

if [ "$failures" -ne 0 ]; then
  for log in cpack install reinstall daemon remove purge; do
    [ -s "$work/$log.log" ] && { echo "--- $log.log"; tail -n 30 "$work/$log.log"; }
  done
fi
finish
