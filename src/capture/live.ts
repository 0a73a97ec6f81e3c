// Live capture through the optional `cap` module (libpcap). cap hands over packet bytes only,
// so frames are stamped with the time they reach us.
import { createRequire } from 'node:module';
import { LINKTYPE, type Frame } from './frame.js';

interface CapDevice {
  name: string;
  description?: string;
  addresses: { addr?: string }[];
  flags?: string;
}

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  setMinBytes?(n: number): void;
}

interface CapModule {
  Cap: { new (): CapInstance; deviceList(): CapDevice[] };
}

export class LiveCaptureUnavailable extends Error {}

function loadCap(): CapModule {
  try {
    return createRequire(import.meta.url)('cap') as CapModule;
  } catch (err) {
    throw new LiveCaptureUnavailable(
      `live capture needs the optional 'cap' module built against libpcap (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); install it with: apt-get install libpcap-dev g++ make python3 && npm install cap`,
    );
  }
}

export function listInterfaces(): CapDevice[] {
  return loadCap().Cap.deviceList();
}

const LINK_NAMES: Record<string, number> = {
  ETHERNET: LINKTYPE.ETHERNET,
  NULL: LINKTYPE.NULL,
  RAW: LINKTYPE.RAW,
  LINKTYPE_LINUX_SLL: LINKTYPE.LINUX_SLL,
  IEEE802_11_RADIO: 127,
};

export interface LiveSession {
  readonly linkType: number;
  stop(): void;
}

/** Opens `iface` with an optional BPF filter and calls `onFrame` per packet until stopped. */
export function startLive(iface: string, filter: string, onFrame: (frame: Frame) => void): LiveSession {
  const cap = loadCap();
  const known = cap.Cap.deviceList().some((d) => d.name === iface);
  if (!known) throw new LiveCaptureUnavailable(`no such interface '${iface}' (msgscope live --list shows them)`);
  const session = new cap.Cap();
  const buffer = Buffer.alloc(262144);
  let linkName: string;
  try {
    linkName = session.open(iface, filter, 16 * 1024 * 1024, buffer);
  } catch (err) {
    throw new LiveCaptureUnavailable(`cannot capture on ${iface}: ${err instanceof Error ? err.message : String(err)}`);
  }
  session.setMinBytes?.(0);
  const linkType = LINK_NAMES[linkName] ?? -1;
  let number = 0;
  session.on('packet', (nbytes) => {
    const now = Date.now();
    const hr = process.hrtime.bigint() % 1000000n; // sub-millisecond part, for ordering within a millisecond
    const tsSec = Math.floor(now / 1000);
    const tsNsec = (now % 1000) * 1e6 + Number(hr % 1000000n);
    onFrame({ number: ++number, tsSec, tsNsec: Math.min(tsNsec, 999_999_999), caplen: nbytes, len: nbytes, linkType, data: buffer.subarray(0, nbytes), interfaceId: 0 });
  });
  return { linkType, stop: () => session.close() };
}
