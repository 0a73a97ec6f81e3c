// UUIDs on the wire (C706 Appendix A: time_low, time_mid, time_hi_and_version in the
// sender's integer byte order, the remaining 8 bytes as they come) and the well-known RPC
// interfaces, so calls to interfaces msgscope does not decode are still labelled.

/** The text of a UUID is put together here, then made a string in one piece (no chain of concatenations). */
const UUID_TEXT = Buffer.alloc(36);
const HEX_CODES = Buffer.from('0123456789abcdef', 'latin1');
/** Byte order of the text: time_low, time_mid and time_hi_and_version are integers in the sender's order. */
const LITTLE_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
const BIG_ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

export function uuidString(b: Uint8Array, o: number, little: boolean): string {
  const order = little ? LITTLE_ORDER : BIG_ORDER;
  const out = UUID_TEXT;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    const v = b[o + order[i]!]!;
    out[at++] = HEX_CODES[v >> 4]!;
    out[at++] = HEX_CODES[v & 15]!;
    if (i === 3 || i === 5 || i === 7 || i === 9) out[at++] = 0x2d;
  }
  return out.toString('latin1', 0, 36);
}

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Transfer syntaxes (C706 14; MS-RPCE 2.2.4.12–2.2.4.14). */
export const TRANSFER_SYNTAXES: ReadonlyMap<string, string> = new Map([
  ['8a885d04-1ceb-11c9-9fe8-08002b104860', 'NDR20 (32bit NDR)'],
  ['71710533-beba-4937-8319-b5dbef9ccc36', 'NDR64'],
  ['6cb71c2c-9812-4540-0300-000000000000', 'Bind time feature negotiation'],
]);

export const NDR20_UUID = '8a885d04-1ceb-11c9-9fe8-08002b104860';

/** Well-known interface UUIDs and their short names (from the MS-* specifications' IDL). */
export const INTERFACES: ReadonlyMap<string, string> = new Map([
  ['5a7b91f8-ff00-11d0-a9b2-00c04fb6e6fc', 'msgsvcsend'],
  ['17fdd703-1827-4e34-79d4-24a55c53bb37', 'msgsvc'],
  ['e1af8308-5d1f-11c9-91a4-08002b14a0fa', 'epmapper'],
  ['afa8bd80-7d8a-11c9-bef4-08002b102989', 'mgmt'],
  ['12345778-1234-abcd-ef00-0123456789ab', 'lsarpc'],
  ['12345778-1234-abcd-ef00-0123456789ac', 'samr'],
  ['12345678-1234-abcd-ef00-01234567cffb', 'netlogon'],
  ['12345678-1234-abcd-ef00-0123456789ab', 'spoolss'],
  ['4b324fc8-1670-01d3-1278-5a47bf6ee188', 'srvsvc'],
  ['6bffd098-a112-3610-9833-46c3f87e345a', 'wkssvc'],
  ['6bffd098-a112-3610-9833-012892020162', 'browser'],
  ['338cd001-2244-31f1-aaaa-900038001003', 'winreg'],
  ['367abb81-9844-35f1-ad32-98f038001003', 'svcctl'],
  ['82273fdc-e32a-18c3-3f78-827929dc23ea', 'eventlog'],
  ['f6beaff7-1e19-4fbb-9f8f-b89e2018337c', 'eventlog6'],
  ['1ff70682-0a51-30e8-076d-740be8cee98b', 'atsvc'],
  ['378e52b0-c0a9-11cf-822d-00aa0051e40f', 'sasec'],
  ['86d35949-83c9-4044-b424-db363231fd0c', 'ITaskSchedulerService'],
  ['3919286a-b10c-11d0-9ba8-00c04fd92ef5', 'dssetup'],
  ['e3514235-4b06-11d1-ab04-00c04fc2dcd2', 'drsuapi'],
  ['4fc742e0-4a10-11cf-8273-00aa004ae673', 'netdfs'],
  ['8d9f4e40-a03d-11ce-8f69-08003e30051b', 'ntsvcs (PnP)'],
  ['c681d488-d850-11d0-8c52-00c04fd90f7e', 'efsrpc'],
  ['df1941c5-fe89-4e79-bf10-463657acf44d', 'efsrpc'],
  ['50abc2a4-574d-40b3-9d66-ee4fd5fba076', 'DnsServer'],
  ['f5cc59b4-4264-101a-8c59-08002b2f8426', 'frsrpc'],
  ['d049b186-814f-11d1-9a3c-00c04fc9b232', 'frsapi'],
  ['8f09f000-b7ed-11ce-bbd2-00001a181cad', 'rras'],
  ['2f5f6520-ca46-1067-b319-00dd010662da', 'tapsrv'],
  ['5ca4a760-ebb1-11cf-8611-00a0245420ed', 'winstation_rpc'],
  ['d6d70ef0-0e3b-11cb-acc3-08002b1d29c3', 'NsiS (RPC locator)'],
  ['d3fbb514-0e3b-11cb-8fad-08002b1d29c3', 'NsiC (RPC locator)'],
  ['d6d70ef0-0e3b-11cb-acc3-08002b1d29c4', 'NsiM (RPC locator)'],
  ['e33c0cc4-0482-101a-bc0c-02608c6ba218', 'LocToLoc (RPC locator)'],
  ['000001a0-0000-0000-c000-000000000046', 'ISystemActivator'],
  ['4d9f4ab8-7d1c-11cf-861e-0020af6e7c57', 'IActivation'],
  ['99fcfec4-5260-101b-bbcb-00aa0021347a', 'IOXIDResolver'],
  ['00000131-0000-0000-c000-000000000046', 'IRemUnknown'],
  ['00000143-0000-0000-c000-000000000046', 'IRemUnknown2'],
  ['00000000-0000-0000-c000-000000000046', 'IUnknown'],
  ['18f70770-8e64-11cf-9af1-0020af6e72f4', 'IOrCallback'],
  ['894de0c0-0d55-11d3-a322-00c04fa321a1', 'InitShutdown'],
  ['d95afe70-a6d5-4259-822e-2c84da1ddb0d', 'WindowsShutdown'],
  ['12b81e99-f207-4a4c-85d3-77b42f76fd14', 'ISeclogon'],
  ['3dde7c30-165d-11d1-ab8f-00805f14db40', 'BackupKey'],
  ['c9ac6db5-82b7-4e55-ae8a-e464ed7b4277', 'SysNotify'],
  ['4b112204-0e19-11d3-b42b-0000f81feb8f', 'sfcapi'],
  ['dea00001-6c97-11d1-8271-00a02442df7d', 'PNIO device'],
  ['dea00002-6c97-11d1-8271-00a02442df7d', 'PNIO controller'],
  ['dea00003-6c97-11d1-8271-00a02442df7d', 'PNIO supervisor'],
  ['dea00004-6c97-11d1-8271-00a02442df7d', 'PNIO parameter server'],
  ['a4f1db00-ca47-1067-b31f-00dd010662da', 'exchange_mapi'],
  ['f5cc5a18-4264-101a-8c59-08002b2f8426', 'nspi'],
  ['1544f5e0-613c-11d1-93df-00c04fd7bd09', 'exchange_rfr'],
  ['c8cb7687-e6d3-11d2-a958-00c04f682e16', 'DAV RPC'],
  ['6bffd098-a112-3610-9833-46c3f874532d', 'dhcpsrv'],
  ['5b821720-f63b-11d0-aad2-00c04fc324db', 'dhcpsrv2'],
  ['3faf4738-3a21-4307-b46c-fdda9bb8c0d5', 'dhcpcsvc'],
  ['45776b01-5956-4485-9f80-f428f7d60129', 'dnsrslvr'],
  ['621dff68-3c39-4c6c-aae3-e68e2c6503ad', 'wzcsvc'],
]);

export function interfaceName(uuid: string): string | undefined {
  return INTERFACES.get(uuid);
}
