// The application dissectors the engine knows. Protocol modules register a maker here (see
// src/protocols/index.ts); each engine calls the makers once, so per-capture state (fragment
// tables, pending requests) lives in the instances and two engines never share it.
import type { TcpAppFactory, UdpAppFactory } from './context.js';

const tcpMakers: (() => TcpAppFactory)[] = [];
const udpMakers: (() => UdpAppFactory)[] = [];

export function registerTcpApp(make: () => TcpAppFactory): void {
  tcpMakers.push(make);
}

export function registerUdpApp(make: () => UdpAppFactory): void {
  udpMakers.push(make);
}

export function makeTcpApps(): TcpAppFactory[] {
  return tcpMakers.map((make) => make());
}

export function makeUdpApps(): UdpAppFactory[] {
  return udpMakers.map((make) => make());
}
