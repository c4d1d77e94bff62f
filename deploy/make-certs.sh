#!/usr/bin/env bash
# Local certificates for TLS and mutual TLS (tests, demos, a first install):
#   deploy/make-certs.sh DIR [HOST...]
# writes into DIR a private CA (ca.pem, ca.key), a server certificate for
# 127.0.0.1, localhost and any HOST given (server.pem, server.key) and a
# client certificate (client.pem, client.key), all signed by that CA and
# valid for 825 days. For production use certificates from your own CA.
set -euo pipefail
dir=${1:?usage: $0 DIR [HOST...]}
shift
mkdir -p "$dir"
cd "$dir"
san="IP:127.0.0.1,DNS:localhost"
for h in "$@"; do
  if [[ $h =~ ^[0-9.]+$ ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
done
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=xinfang local CA" \
  -keyout ca.key -out ca.pem 2>/dev/null
issue() {  # issue NAME CN EXTENSIONS
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
issue server "xinfang server" "subjectAltName=$san
extendedKeyUsage=serverAuth"
issue client "xinfang client" "extendedKeyUsage=clientAuth"
chmod 600 ./*.key
echo "certificates in $dir: ca.pem, server.pem/server.key ($san), client.pem/client.key"
