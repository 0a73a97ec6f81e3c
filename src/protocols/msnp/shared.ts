// State shared by every MSNP connection of one capture: referrals (XFR/RNG) that announce
// switchboard and notification servers, logins on notification servers, version evidence per
// client address, and HTTP-gateway sessions. Bounded tables.
import { VersionRange } from './version.js';
import { MessageLegs } from './legs.js';

export interface Login {
  readonly handle: string;
  readonly clientIp: string;
  readonly frame: number;
  version: number | undefined;
  versionText: string;
  auth: string | undefined;
}

export interface Referral {
  readonly kind: 'XFR' | 'RNG';
  readonly type: 'NS' | 'SB';
  /** `host:port` as announced (port 1863 added when absent). */
  readonly address: string;
  readonly cookie: string;
  readonly sessid?: string;
  readonly caller?: string;
  readonly clientIp: string;
  readonly frame: number;
  readonly login: Login | undefined;
  readonly version: number | undefined;
}

const MAX_REFERRALS = 4096;
const MAX_LOGINS = 4096;
const MAX_RANGES = 4096;

export class MsnpShared {
  private readonly referrals: Referral[] = [];
  private readonly byCookie = new Map<string, Referral>();
  /** The referrals per client address and server endpoint, oldest first (a lookup must not scan all 4,096). */
  private readonly byRoute = new Map<string, Referral[]>();
  /** Announced server endpoints (`ip:port`), for detection on any port. */
  readonly announced = new Set<string>();
  private readonly logins = new Map<string, Login>();
  private readonly ranges = new Map<string, VersionRange>();
  /** Set when a bound is reached (reported once by the caller). */
  full = false;
  /** Switchboard messages waiting for their other legs. */
  readonly legs = new MessageLegs();

  addReferral(r: Referral): void {
    if (this.referrals.length >= MAX_REFERRALS) {
      const old = this.referrals.shift()!;
      if (this.byCookie.get(old.cookie) === old) this.byCookie.delete(old.cookie);
      const key = routeKey(old.clientIp, normaliseAddress(old.address));
      const same = this.byRoute.get(key);
      // The oldest referral of all is the oldest of its route too.
      if (same !== undefined && same[0] === old) {
        same.shift();
        if (same.length === 0) this.byRoute.delete(key);
      }
      this.full = true;
    }
    this.referrals.push(r);
    this.byCookie.set(r.cookie, r);
    const key = routeKey(r.clientIp, normaliseAddress(r.address));
    const same = this.byRoute.get(key);
    if (same === undefined) this.byRoute.set(key, [r]);
    else same.push(r);
    if (this.announced.size < MAX_REFERRALS) this.announced.add(normaliseAddress(r.address));
  }

  referralByCookie(cookie: string): Referral | undefined {
    return this.byCookie.get(cookie);
  }

  /** The latest referral to this server for this client, made before `frame`. */
  referralTo(serverEndpoint: string, clientIp: string, frame: number): Referral | undefined {
    const same = this.byRoute.get(routeKey(clientIp, serverEndpoint));
    if (same === undefined) return undefined;
    for (let i = same.length - 1; i >= 0; i--) {
      const r = same[i]!;
      if (r.frame <= frame) return r;
    }
    return undefined;
  }

  setLogin(login: Login): void {
    if (this.logins.size >= MAX_LOGINS && !this.logins.has(login.clientIp)) {
      const first = this.logins.keys().next().value;
      if (first !== undefined) this.logins.delete(first);
      this.full = true;
    }
    this.logins.set(login.clientIp, login);
  }

  loginFor(clientIp: string): Login | undefined {
    return this.logins.get(clientIp);
  }

  /** Version evidence pooled per client address (the NS and SB connections of one client). */
  range(clientIp: string): VersionRange {
    let r = this.ranges.get(clientIp);
    if (r === undefined) {
      r = new VersionRange();
      if (this.ranges.size < MAX_RANGES) this.ranges.set(clientIp, r);
      else this.full = true;
    }
    return r;
  }
}

/** `host[:port]` → `host:port` with the default port 1863 (draft §7.4: optional `:PortNo`). */
function routeKey(clientIp: string, serverEndpoint: string): string {
  return `${clientIp} ${serverEndpoint}`;
}

export function normaliseAddress(address: string): string {
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address;
  return `${address}:1863`;
}

/** `1:bob@example.com` → `bob@example.com`; `bob@example.com;{guid}` → `bob@example.com`. */
export function handleOf(param: string): string {
  let h = param;
  const semi = h.indexOf(';');
  if (semi >= 0) h = h.slice(0, semi);
  const m = /^\d+:(.+)$/.exec(h);
  return m ? m[1]! : h;
}
