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

/** cap names five link types and reports others as "Unknown linktype N" (a DLT_ value). */
export function linkTypeOf(name: string): number {
  const known = LINK_NAMES[name];
  if (known !== undefined) return known;
  const m = /linktype (\d+)/i.exec(name);
  // DLT_ and LINKTYPE_ values agree except for a few historical ones; the raw-IP DLT differs by platform.
  if (m !== null) return Number(m[1]) === 12 || Number(m[1]) === 14 ? LINKTYPE.RAW : Number(m[1]);
  return 0xffff; // unknown: frames stay undecoded, and the pcapng writer still has a valid value
}

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
  const linkType = linkTypeOf(linkName);
  let number = 0;
  // cap gives no capture timestamp: stamp arrival with the wall clock at start plus the
  // monotonic clock since then, so times never go backwards.
  const wallStartNs = BigInt(Date.now()) * 1_000_000n;
  const monoStart = process.hrtime.bigint();
  session.on('packet', (nbytes) => {
    const ns = wallStartNs + (process.hrtime.bigint() - monoStart);
    const tsSec = Number(ns / 1_000_000_000n);
    // Microseconds, as libpcap stamps frames and as capture files usually hold them, so live
    // and file times print with the same precision.
    const tsNsec = Number((ns % 1_000_000_000n) / 1000n) * 1000;
    onFrame({ number: ++number, tsSec, tsNsec, caplen: nbytes, len: nbytes, linkType, data: buffer.subarray(0, nbytes), interfaceId: 0 });
  });
  return { linkType, stop: () => session.close() };
}
