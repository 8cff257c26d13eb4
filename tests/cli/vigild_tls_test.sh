#!/usr/bin/env bash
# vigild serving HTTPS (certificates made here with the openssl CLI, valid for a day) and
# vigilctl talking to it: --ca-file and VIGIL_CA_FILE, verification failures that say what
# to do, --insecure with its warning, plain HTTP on the TLS port told to use https:// without harm,
# SIGHUP certificate rotation, bad TLS or Kafka SSL files refused by --check and at start,
# and mutual TLS with vigilctl presenting a client certificate.
# Usage: vigild_tls_test.sh VIGILD VIGILCTL SOURCE_DIR
set -u
vigild=$(realpath "$1")
ctl=$(realpath "$2")
src=$(realpath "$3")
work=$(mktemp -d)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
daemon() {  # daemon ARGS... ; runs vigild to completion, sets rc and log
  "$vigild" --set kafka.brokers=embedded --set rules.paths="$src/rules/packs" \
    --set state.dir="$work/state-check" --set http.listen=127.0.0.1:0 "$@" >"$work/check.log" 2>&1
  rc=$?
  log=$(cat "$work/check.log")
}

# ---- a CA, a server certificate for 127.0.0.1 only, and a second CA for rotation
cd "$work" || exit 1
new_ca() {  # new_ca NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
}
new_server() {  # new_server CA NAME
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=vigil-test \
    -keyout "$2.key" -out "$2.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
    >"$2.ext"
  openssl x509 -req -in "$2.csr" -CA "$1.pem" -CAkey "$1.key" -CAcreateserial -days 1 \
    -extfile "$2.ext" -out "$2.pem" 2>/dev/null
}
new_ca ca && new_server ca server && new_ca ca2 && new_server ca2 server2
check "the test certificates are made" test -s server.pem -a -s server2.pem
cp server.pem live.pem && cp server.key live.key
tls=(--set http.tls.cert_file="$work/live.pem" --set http.tls.key_file="$work/live.key")

# ---- bad files: --check refuses them, naming the key and the file
daemon --check "${tls[@]}"
check "--check accepts good TLS files" test "$rc" -eq 0
check "--check says the TLS files are valid" contains "$log" "and TLS files are valid"
daemon --check --set http.tls.cert_file="$work/live.pem" --set http.tls.key_file="$work/server2.key"
check "--check refuses a key of another certificate" test "$rc" -eq 1
check "the mismatch names the key file" contains "$log" \
  "http.tls.key_file $work/server2.key: the key does not match the certificate in http.tls.cert_file $work/live.pem"
daemon --check --set http.tls.cert_file="$work/nope.pem" --set http.tls.key_file="$work/live.key"
check "--check refuses a missing certificate" test "$rc" -eq 1
check "the missing file is named" contains "$log" \
  "http.tls.cert_file $work/nope.pem: cannot read: No such file or directory"
daemon --check --set http.tls.cert_file="$work/live.pem"
check "a certificate without a key is a config error" test "$rc" -eq 1
check "it says the key is needed" contains "$log" "http.tls.cert_file: needs http.tls.key_file too"

# ---- Kafka SSL files and values: refused before anything starts
daemon --check --set kafka.properties.security.protocol=SSL \
  --set kafka.properties.ssl.ca.location="$work/kafka-ca.pem"
check "--check refuses a missing ssl.ca.location" test "$rc" -eq 1
check "it names the property and the file" contains "$log" \
  "kafka.properties.ssl.ca.location: cannot read $work/kafka-ca.pem: No such file or directory"
echo "not a certificate" >"$work/garbage.pem"
daemon --set kafka.properties.security.protocol=SSL --set kafka.properties.ssl.ca.location="$work/garbage.pem" \
  --set kafka.properties.sasl.password=hunter2
check "vigild does not start with a CA file librdkafka cannot use" test "$rc" -eq 1
check "librdkafka's reason names ssl.ca.location" contains "$log" "ssl.ca.location"
check "the SASL password is not logged" lacks "$log" "hunter2"
daemon --check --set kafka.properties.security.protocol=TLS
check "--check refuses a bad security.protocol" test "$rc" -eq 1
check "with librdkafka's reason" contains "$log" \
  "kafka.properties.security.protocol: librdkafka rejects it: Invalid value \"TLS\""

# ---- vigild over HTTPS
"$vigild" --set kafka.brokers=embedded --set rules.paths="$src/rules/packs" \
  --set state.dir="$work/state" --set http.listen=127.0.0.1:0 "${tls[@]}" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
wait_for 30 grep -qs "http: listening on" "$work/daemon.log"
port=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\) (TLS).*/\1/p' "$work/daemon.log")
check "vigild listens with TLS" test -n "$port"
server="https://127.0.0.1:$port"
ready() { test "$(curl -s --cacert "$work/ca.pem" -o /dev/null -w '%{http_code}' "$server/readyz")" = 200; }
wait_for 60 ready
check "vigild is ready over HTTPS" ready
check "the API links itself over https" grep -q "API at https://127.0.0.1:$port/api/v1/status" "$work/daemon.log"

echo '{"id": "tls-1", "platform": "forum", "community": "ops", "body": "身份证号440305199206150217，麻烦帮我查一下订单"}' >"$work/posts.jsonl"
ingest=$(curl -s --cacert "$work/ca.pem" -w ' %{http_code}' -X POST --data-binary @"$work/posts.jsonl" "$server/api/v1/posts")
check "a post is ingested over HTTPS (202)" contains "$ingest" " 202"
one_incident() {
  "$ctl" incidents list --server "$server" --ca-file "$work/ca.pem" 2>/dev/null | grep -q "privacy.cn_resident_id"
}
wait_for 60 one_incident

run incidents list --server "$server" --ca-file "$work/ca.pem"
check "incidents list over https exits 0" test "$rc" -eq 0
check "it lists the incident" contains "$out" "privacy.cn_resident_id"
VIGIL_CA_FILE="$work/ca.pem" run incidents list --server "$server"
check "VIGIL_CA_FILE trusts the CA too" test "$rc" -eq 0

run incidents list --server "$server"
check "without the CA the server is not trusted (exit 1)" test "$rc" -eq 1
check "the message says why and what to do" contains "$err" \
  "vigilctl: the certificate of 127.0.0.1:$port is not trusted: unable to get local issuer certificate; trust its CA with --ca-file"
run incidents list --server "$server" --ca-file "$work/ca2.pem"
check "another CA is not trusted either" test "$rc" -eq 1
run incidents list --server "https://localhost:$port" --ca-file "$work/ca.pem"
check "a name the certificate does not hold is refused" test "$rc" -eq 1
check "as a hostname mismatch" contains "$err" "is not trusted: hostname mismatch"
run incidents list --server "$server" --ca-file "$work/nope.pem"
check "a missing --ca-file exits 1" test "$rc" -eq 1
check "naming the file" contains "$err" "vigilctl: CA file $work/nope.pem: cannot read: No such file or directory"
run incidents list --server "$server" --insecure
check "--insecure connects without the CA" test "$rc" -eq 0
check "--insecure warns on stderr" contains "$err" "vigilctl: warning: --insecure: the certificate of 127.0.0.1:$port is not verified"

run incidents list --server "http://127.0.0.1:$port"
check "plain HTTP to the TLS port fails (exit 1)" test "$rc" -eq 1
check "vigild says to use https://" contains "$err" "400 Bad Request: This port serves HTTPS only: use https://"
check "curl shows the same" contains "$(curl -s "http://127.0.0.1:$port/readyz")" "This port serves HTTPS only"
check "vigild logs the failed handshake" wait_for 10 grep -q "TLS handshake failed: http request" "$work/daemon.log"
check "vigild still runs" kill -0 "$daemon_pid"
check "and still answers HTTPS" ready
check "the failed handshake is counted in /metrics" grep -Eq '^vigil_http_tls_handshake_failures_total [1-9]' \
  <<<"$(curl -s --cacert "$work/ca.pem" "$server/metrics")"

# ---- SIGHUP: a rotated certificate (from another CA) is served to new connections
cp server2.pem live.pem && cp server2.key live.key
kill -HUP "$daemon_pid"
check "SIGHUP reloads the certificate" wait_for 30 grep -q "TLS certificate reloaded from $work/live.pem" "$work/daemon.log"
run incidents list --server "$server" --ca-file "$work/ca2.pem"
check "the new certificate is served" test "$rc" -eq 0
run incidents list --server "$server" --ca-file "$work/ca.pem"
check "the old CA no longer fits" test "$rc" -eq 1

kill -TERM "$daemon_pid"
wait "$daemon_pid"
check "vigild exits 0 on SIGTERM" test $? -eq 0
daemon_pid=

# ---- mutual TLS: clients need a certificate from clients-ca; vigilctl presents one
new_ca clients-ca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=sre-laptop \
  -keyout client.key -out client.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >client.ext
openssl x509 -req -in client.csr -CA clients-ca.pem -CAkey clients-ca.key -CAcreateserial -days 1 \
  -extfile client.ext -out client.pem 2>/dev/null
check "the client certificate is made" test -s client.pem
cp server.pem live.pem && cp server.key live.key
"$vigild" --set kafka.brokers=embedded --set rules.paths="$src/rules/packs" \
  --set state.dir="$work/state-mtls" --set http.listen=127.0.0.1:0 "${tls[@]}" \
  --set http.tls.client_ca_file="$work/clients-ca.pem" >"$work/mtls.log" 2>&1 &
daemon_pid=$!
wait_for 30 grep -qs "http: listening on" "$work/mtls.log"
port=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\) (TLS).*/\1/p' "$work/mtls.log")
server="https://127.0.0.1:$port"
run incidents list --server "$server" --ca-file "$work/ca.pem"
check "mutual TLS: without a client certificate vigilctl is refused (1)" test "$rc" -eq 1
run incidents list --server "$server" --ca-file "$work/ca.pem" --cert-file "$work/client.pem" \
  --key-file "$work/client.key"
check "mutual TLS: with its certificate vigilctl gets through" test "$rc" -eq 0
VIGIL_CERT_FILE="$work/client.pem" VIGIL_KEY_FILE="$work/client.key" \
  run incidents list --server "$server" --ca-file "$work/ca.pem"
check "mutual TLS: VIGIL_CERT_FILE and VIGIL_KEY_FILE work too" test "$rc" -eq 0
run incidents list --server "$server" --ca-file "$work/ca.pem" --cert-file "$work/client.pem" \
  --key-file "$work/server.key"
check "a key of another certificate exits 1" test "$rc" -eq 1
check "naming both files" contains "$err" \
  "--key-file $work/server.key: does not match the certificate in --cert-file $work/client.pem"
run incidents list --server "$server" --ca-file "$work/ca.pem" --cert-file "$work/client.pem"
check "a certificate without its key is refused" contains "$err" "--cert-file and --key-file go together"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
finish
