#!/usr/bin/env bash
# The system packages govsig's tests and demo need beyond Rust and CPython (Debian 12/13):
# OpenSSL's CLI (interop and the OCSP responder), SoftHSM2 (the PKCS#11 token), OpenSC's
# pkcs11-tool (to provision it), Chromium (headless, to check the HTML reports as a person
# sees them), poppler's pdftoppm (every PDF govsig signs must render), and the venv module for `.venv`. Installed with apt when run
# as root; otherwise one line naming the exact command, and exit status 1.
set -u

missing=()
need() { # need PACKAGE TEST...
  local pkg=$1; shift
  if ! "$@" >/dev/null 2>&1; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
}
need openssl command -v openssl
need softhsm2 command -v softhsm2-util
need softhsm2 test -e /usr/lib/softhsm/libsofthsm2.so
need opensc command -v pkcs11-tool
need chromium command -v chromium
need poppler-utils command -v pdftoppm
py=${SYSPY:-python3}
need "$("$py" -c 'import sys; print(f"python3.{sys.version_info[1]}-venv")' 2>/dev/null || echo python3-venv)" \
  "$py" -c 'import ensurepip, venv'

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "govsig: missing system packages; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "govsig: missing system packages (${missing[*]}) and no apt-get here; install them with your package manager" >&2
  exit 1
fi
echo "govsig: installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
