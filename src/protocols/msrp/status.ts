// Return values of the MS-MSRP methods, as the spec's tables list them per method
// (MS-MSRP 3.1.4.1–3.1.4.4 NET_API_STATUS, 3.2.4.1 error_status_t), with the Win32/LAN
// Manager names of MS-ERREF for values a method's table does not list.

type Table = ReadonlyMap<number, string>;

/** MS-MSRP 3.2.4.1 NetrSendMessage. */
export const SEND_MESSAGE_STATUS: Table = new Map([
  [0x00000000, 'ERROR_SUCCESS'],
  [0x00000005, 'ERROR_ACCESS_DENIED'],
  [0x00000032, 'ERROR_NOT_SUPPORTED'],
  [0x00000057, 'ERROR_INVALID_PARAMETER'],
  [0x00000858, 'NERR_NetworkError'],
  [0x000008e1, 'NERR_NameNotFound'],
  [0x000008e8, 'NERR_GrpMsgProcessor'],
  [0x000008e9, 'NERR_PausedRemote'],
  [0x000008ea, 'NERR_BadReceive'],
  [0x000008eb, 'NERR_NameInUse'],
  [0x000008ed, 'NERR_NotLocalName'],
  [0x000008f1, 'NERR_TruncatedBroadcast'],
  [0x000008f9, 'NERR_DuplicateName'],
]);

/**
 * MS-MSRP 3.1.4.1 NetrMessageNameAdd. The spec's table gives NERR_NetworkError as 0x859,
 * where 3.2.4.1 and MS-ERREF give 0x858; both are named so, following each table.
 */
export const NAME_ADD_STATUS: Table = new Map([
  [0x00000000, 'ERROR_SUCCESS'],
  [0x00000005, 'ERROR_ACCESS_DENIED'],
  [0x0000007b, 'ERROR_INVALID_NAME'],
  [0x00000859, 'NERR_NetworkError'],
  [0x0000085c, 'NERR_InternalError'],
  [0x000008e4, 'NERR_AlreadyExists'],
  [0x000008e5, 'NERR_TooManyNames'],
  [0x000008f9, 'NERR_DuplicateName'],
]);

/** MS-MSRP 3.1.4.2 NetrMessageNameEnum. */
export const NAME_ENUM_STATUS: Table = new Map([
  [0x00000000, 'NERR_Success'],
  [0x00000005, 'ERROR_ACCESS_DENIED'],
  [0x00000057, 'ERROR_INVALID_PARAMETER'],
  [0x0000007c, 'ERROR_INVALID_LEVEL'],
  [0x0000084b, 'NERR_BufTooSmall'],
]);

/** MS-MSRP 3.1.4.3 NetrMessageNameGetInfo. */
export const NAME_GETINFO_STATUS: Table = new Map([
  [0x00000000, 'NERR_Success'],
  [0x00000005, 'ERROR_ACCESS_DENIED'],
  [0x00000008, 'ERROR_NOT_ENOUGH_MEMORY'],
  [0x0000007b, 'ERROR_INVALID_NAME'],
  [0x0000007c, 'ERROR_INVALID_LEVEL'],
  [0x000008ed, 'NERR_NotLocalName'],
]);

/** MS-MSRP 3.1.4.4 NetrMessageNameDel. */
export const NAME_DEL_STATUS: Table = new Map([
  [0x00000000, 'NERR_Success'],
  [0x00000005, 'ERROR_ACCESS_DENIED'],
  [0x0000007b, 'ERROR_INVALID_NAME'],
  [0x000008e6, 'NERR_DelComputerName'],
  [0x000008eb, 'NERR_NameInUse'],
  [0x000008ed, 'NERR_NotLocalName'],
  [0x000008fb, 'NERR_IncompleteDel'],
]);

/** Other codes a server may return (MS-ERREF 2.2), e.g. the <10>/<11>/<16>/<18> notes' ERROR_INVALID_PARAMETER. */
const GENERAL: Table = new Map([
  [0x00000000, 'ERROR_SUCCESS'],
  [0x00000005, 'ERROR_ACCESS_DENIED'],
  [0x00000008, 'ERROR_NOT_ENOUGH_MEMORY'],
  [0x00000032, 'ERROR_NOT_SUPPORTED'],
  [0x00000057, 'ERROR_INVALID_PARAMETER'],
  [0x0000007b, 'ERROR_INVALID_NAME'],
  [0x0000007c, 'ERROR_INVALID_LEVEL'],
  [0x000000ea, 'ERROR_MORE_DATA'],
  [0x0000084b, 'NERR_BufTooSmall'],
  [0x00000858, 'NERR_NetworkError'],
  [0x00000859, 'NERR_WkstaInconsistentState'],
  [0x0000085c, 'NERR_InternalError'],
  [0x000008e1, 'NERR_NameNotFound'],
  [0x000008e4, 'NERR_AlreadyExists'],
  [0x000008e5, 'NERR_TooManyNames'],
  [0x000008e6, 'NERR_DelComputerName'],
  [0x000008e8, 'NERR_GrpMsgProcessor'],
  [0x000008e9, 'NERR_PausedRemote'],
  [0x000008ea, 'NERR_BadReceive'],
  [0x000008eb, 'NERR_NameInUse'],
  [0x000008ed, 'NERR_NotLocalName'],
  [0x000008f1, 'NERR_TruncatedBroadcast'],
  [0x000008f9, 'NERR_DuplicateName'],
  [0x000008fb, 'NERR_IncompleteDel'],
]);

export interface StatusName {
  readonly name: string;
  /** False when the method's table in the spec does not list the value. */
  readonly listed: boolean;
}

export function statusName(table: Table, code: number): StatusName {
  const listed = table.get(code);
  if (listed !== undefined) return { name: listed, listed: true };
  return { name: GENERAL.get(code) ?? `0x${code.toString(16).padStart(8, '0')}`, listed: false };
}
