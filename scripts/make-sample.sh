#!/usr/bin/env bash
# Builds samples/messenger-mix.pcapng, the README's sample, from fixtures made by real
# software (see scripts/fixtures/): a multi-block WinPopup message from smbclient -M to smbd,
# \MAILSLOT\MESSNGR datagrams, a NetrSendMessage spam burst over UDP with bounces, the
# msgsvc name-management calls over an SMB1 named pipe (impacket), and one MSNP session
# (real TCP between network namespaces, MSNP8 service scripted by audit_msnp.py): paula's
# notification-server login and logout and her switchboard chat with quinn, cut from
# test/fixtures/audit/contacts-msnp.pcap (its two TCP connections, 52 frames) and moved in
# time to follow the other families, so the earlier frames keep their numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tshark -r test/fixtures/audit/contacts-msnp.pcap -Y 'tcp.port == 34548 || tcp.port == 56332' -w "$tmp/msnp-cut.pcap" 2>/dev/null
# 2026-11-30 14:31:02.848600 (its first frame) → 2026-11-22 04:43:12, four seconds after the last SMB frame.
editcap -t -726470.8486 "$tmp/msnp-cut.pcap" "$tmp/msnp.pcap"
mergecap -F pcapng -w samples/messenger-mix.pcapng \
  test/fixtures/smb-long.pcap test/fixtures/smb-cp850.pcap test/fixtures/mailslot-messngr.pcap \
  test/fixtures/msrp-burst.pcap test/fixtures/msgsvc-smb1.pcap "$tmp/msnp.pcap"
