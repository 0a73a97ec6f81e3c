// Display filters (Wireshark syntax): `PacketFilter` for frames, `EventFilter` for timeline events.
// Language reference: docs/filters.md.
export { FilterError, UnknownFieldError } from './errors.js';
export { PacketFilter, PacketFilterGroup } from './packet-fields.js';
export { EventFilter, eventFieldNames } from './event-fields.js';
