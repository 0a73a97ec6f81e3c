// DCE/RPC: connectionless over UDP (any port, found by its header), connection-oriented over
// TCP (port 135 and dynamic ports found by the v5 header) and over SMB named pipes.
import { registerUdpApp } from '../../engine/registry.js';
import { makeClFactory } from './cl.js';

registerUdpApp(makeClFactory);
