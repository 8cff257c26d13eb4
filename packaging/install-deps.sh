#!/usr/bin/env bash
# Installs every build, test and run dependency of Vigil on Debian bookworm (or a
# close Ubuntu) with apt-get. Idempotent: packages already present are left alone,
# and apt-get is not called at all when nothing is missing.
#   install-deps.sh               everything: build, package, test, benchmark, develop
#   install-deps.sh --build-only  what a release build with -DBUILD_TESTING=OFF
#                                 -DVIGIL_BENCH=OFF and cpack need (packaging/Containerfile)
set -euo pipefail

build_only=false
case "${1:-}" in
  "") ;;
  --build-only) build_only=true ;;
  *) echo "usage: install-deps.sh [--build-only]" >&2; exit 2 ;;
esac

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache
  # rule engine
  libhyperscan-dev libre2-dev libyaml-cpp-dev libutf8proc-dev libicu-dev
  # data, CLI, logging
  libsimdjson-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  # pipeline, HTTP, metrics, state
  librdkafka-dev libboost1.81-dev prometheus-cpp-dev libsqlite3-dev libpq-dev libssl-dev
  # notifiers: HTTP and SMTP delivery
  libcurl4-openssl-dev
  # the .deb: cpack's dpkg-shlibdeps (dpkg-dev) needs file; the package's scripts need
  # adduser; help2man writes the manual pages
  dpkg-dev file adduser help2man
  # npm fetches the English sentiment lexicon (vader-sentiment) at build time, over HTTPS
  nodejs npm ca-certificates
)
test_packages=(
  # development
  clang-format git
  # tests and benchmarks (curl: the CLI tests' HTTP client)
  googletest libgtest-dev libgmock-dev libbenchmark-dev kcat curl
  # real Kafka broker for integration tests (tests/kafka/kafka.sh: jars via mvn)
  openjdk-17-jdk-headless maven python3
  # promtool checks and unit-tests the alert rules and the dashboard's queries, and a
  # real Prometheus scrapes vigild in a test; bookworm ships Prometheus 2.42
  prometheus
)
$build_only || packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # a tool may already be on PATH from another source (nodejs/npm on developer images)
    case "$p" in
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
