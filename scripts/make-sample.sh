#!/usr/bin/env bash
# Builds samples/messenger-mix.pcapng, the README's sample, from fixtures made by real
# software (see scripts/fixtures/): a multi-block WinPopup message from smbclient -M to smbd,
# \MAILSLOT\MESSNGR datagrams, a NetrSendMessage spam burst over UDP with bounces, and the
# msgsvc name-management calls over an SMB1 named pipe (impacket).
set -euo pipefail
cd "$(dirname "$0")/.."
mergecap -F pcapng -w samples/messenger-mix.pcapng \
  test/fixtures/smb-long.pcap test/fixtures/smb-cp850.pcap test/fixtures/mailslot-messngr.pcap \
  test/fixtures/msrp-burst.pcap test/fixtures/msgsvc-smb1.pcap
