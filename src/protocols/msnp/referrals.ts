// Referral linking between MSNP connections: a server's XFR and RNG referrals are recorded
// in the capture's shared state, and a switchboard connection is linked to the referral that
// sent its client there, by the cookie the client presents or, without the client's half, by
// the latest referral to this server for this client.
import type { ConnectionRoute } from './connection.js';
import { handleOf, normaliseAddress, type Login, type MsnpShared, type Referral } from './shared.js';

export class ReferralLinks {
  /** The referral this connection was linked to. */
  referral: Referral | undefined;

  /** `adopt`: what linking to a referral tells the connection (session id, version, user, caller). */
  constructor(private readonly shared: MsnpShared, private readonly route: ConnectionRoute, private readonly adoptReferral: (r: Referral) => void) {}

  /** A referral this connection's server made (XFR, RNG), with the login and version it was made under. */
  announce(
    kind: 'XFR' | 'RNG', type: 'NS' | 'SB', address: string, cookie: string, sessid: string | undefined, caller: string | undefined, frame: number,
    login: Login | undefined, version: number | undefined,
  ): void {
    this.shared.addReferral({
      kind, type, address: normaliseAddress(address), cookie, sessid, caller: caller !== undefined ? handleOf(caller) : undefined,
      clientIp: this.route.clientIp, frame, login: login ?? this.shared.loginFor(this.route.clientIp), version,
    });
  }

  /** Links this switchboard to the referral whose cookie the client presented. */
  linkByCookie(cookie: string, frame: number): void {
    if (this.referral !== undefined) return;
    const r = this.shared.referralByCookie(cookie);
    if (r !== undefined) this.adopt(r);
    else this.linkByServer(frame);
  }

  /** Without the client's half: the latest referral to this server for this client. */
  linkByServer(frame: number): void {
    if (this.referral !== undefined) return;
    const r = this.shared.referralTo(this.route.server, this.route.clientIp, frame);
    if (r !== undefined) this.adopt(r);
  }

  private adopt(r: Referral): void {
    this.referral = r;
    this.adoptReferral(r);
  }
}
