// MS-MSRP's two RPC interfaces, handed to the DCE/RPC engines.
import { registerRpcInterface } from '../dcerpc/interfaces.js';
import { msgsvc, msgsvcsend } from './handler.js';

registerRpcInterface(msgsvcsend);
registerRpcInterface(msgsvc);
