// MS-MSRP's two RPC interfaces, for the DCE/RPC engines.
import type { RpcInterfaceHandler } from '../dcerpc/interfaces.js';
import { msgsvc, msgsvcsend } from './handler.js';

export function msrpInterfaces(): RpcInterfaceHandler[] {
  return [msgsvcsend, msgsvc];
}
