// SMB1 status codes by name: the 32-bit NT status (MS-ERREF 2.3) when Flags2 has
// SMB_FLAGS2_NT_STATUS, otherwise the DOS error class and code (MS-CIFS 2.2.2.4).

export const DOS_CLASSES: ReadonlyMap<number, string> = new Map([
  [0x00, 'SUCCESS'],
  [0x01, 'ERRDOS'],
  [0x02, 'ERRSRV'],
  [0x03, 'ERRHRD'],
  [0x04, 'ERRXOS'],
  [0xe1, 'ERRRMX1'],
  [0xe2, 'ERRRMX2'],
  [0xe3, 'ERRRMX3'],
  [0xff, 'ERRCMD'],
]);

const ERRDOS: ReadonlyMap<number, string> = new Map([
  [1, 'ERRbadfunc'], [2, 'ERRbadfile'], [3, 'ERRbadpath'], [4, 'ERRnofids'], [5, 'ERRnoaccess'], [6, 'ERRbadfid'],
  [7, 'ERRbadmcb'], [8, 'ERRnomem'], [9, 'ERRbadmem'], [10, 'ERRbadenv'], [11, 'ERRbadformat'], [12, 'ERRbadaccess'],
  [13, 'ERRbaddata'], [15, 'ERRbaddrive'], [16, 'ERRremcd'], [17, 'ERRdiffdevice'], [18, 'ERRnofiles'],
  [31, 'ERRgeneral'], [32, 'ERRbadshare'], [33, 'ERRlock'], [38, 'ERReof'], [50, 'ERRunsup'],
  [52, 'ERRdupname'], [53, 'ERRbadnetpath'], [64, 'ERRnetnamedel'], [67, 'ERRnosuchshare'],
  // Windows system error codes that SMB servers return in the DOS class (MS-ERREF 2.2).
  [71, 'ERROR_REQ_NOT_ACCEP'],
  [80, 'ERRfilexists'], [87, 'ERRinvalidparam'], [109, 'ERRbrokenpipe'], [112, 'ERRdiskfull'],
  [123, 'ERRinvalidname'], [124, 'ERRunknownlevel'], [145, 'ERRdirnotempty'], [158, 'ERRnotlocked'],
  [183, 'ERRalreadyexists'], [230, 'ERRbadpipe'], [231, 'ERRpipebusy'], [232, 'ERRpipeclosing'],
  [233, 'ERRnotconnected'], [234, 'ERRmoredata'], [254, 'ERReasnotsupported'], [255, 'ERRbadealist'],
  [282, 'ERReasnotsupported'], [1022, 'ERR_NOTIFY_ENUM_DIR'], [2123, 'NERR_BufTooSmall'],
  [2273, 'NERR_NameNotFound'],
]);

const ERRSRV: ReadonlyMap<number, string> = new Map([
  [1, 'ERRerror'], [2, 'ERRbadpw'], [3, 'ERRbadpath'], [4, 'ERRaccess'], [5, 'ERRinvtid'], [6, 'ERRinvnetname'],
  [7, 'ERRinvdevice'], [22, 'ERRinvsess'], [23, 'ERRworking'], [24, 'ERRnotme'], [25, 'ERRbadcmd'],
  [49, 'ERRqfull'], [50, 'ERRqtoobig'], [51, 'ERRqeof'], [52, 'ERRinvpfid'], [64, 'ERRsmbcmd'],
  [65, 'ERRsrverror'], [67, 'ERRfilespecs'], [68, 'ERRreserved'], [69, 'ERRbadpermits'], [71, 'ERRsetattrmode'],
  [81, 'ERRpaused'], [82, 'ERRmsgoff'], [83, 'ERRnoroom'], [87, 'ERRrmuns'], [88, 'ERRtimeout'],
  [89, 'ERRnoresource'], [90, 'ERRtoomanyuids'], [91, 'ERRbaduid'], [250, 'ERRusempx'], [251, 'ERRusestd'],
  [252, 'ERRcontmpx'], [2239, 'ERRaccountExpired'], [2240, 'ERRbadClient'], [2241, 'ERRbadLogonTime'],
  [2242, 'ERRpasswordExpired'], [65535, 'ERRnosupport'],
]);

const ERRHRD: ReadonlyMap<number, string> = new Map([
  [19, 'ERRnowrite'], [20, 'ERRbadunit'], [21, 'ERRnotready'], [22, 'ERRbadcmd'], [23, 'ERRdata'],
  [24, 'ERRbadreq'], [25, 'ERRseek'], [26, 'ERRbadmedia'], [27, 'ERRbadsector'], [28, 'ERRnopaper'],
  [29, 'ERRwrite'], [30, 'ERRread'], [31, 'ERRgeneral'], [32, 'ERRbadshare'], [33, 'ERRlock'],
  [34, 'ERRwrongdisk'], [35, 'ERRFCBUnavail'], [36, 'ERRsharebufexc'], [39, 'ERRdiskfull'],
]);

const DOS_CODES: ReadonlyMap<number, ReadonlyMap<number, string>> = new Map([
  [0x01, ERRDOS],
  [0x02, ERRSRV],
  [0x03, ERRHRD],
]);

/** `ERRSRV/ERRmsgoff`; an unknown code keeps its number: `ERRDOS/0x0047`. */
export function dosErrorName(errorClass: number, code: number): string {
  const cls = DOS_CLASSES.get(errorClass) ?? `class 0x${errorClass.toString(16).padStart(2, '0')}`;
  const name = DOS_CODES.get(errorClass)?.get(code) ?? `0x${code.toString(16).padStart(4, '0')}`;
  return `${cls}/${name}`;
}

export const NT_STATUS: ReadonlyMap<number, string> = new Map([
  [0x00000000, 'STATUS_SUCCESS'],
  [0x00000103, 'STATUS_PENDING'],
  [0x0000010c, 'STATUS_NOTIFY_ENUM_DIR'],
  [0x80000005, 'STATUS_BUFFER_OVERFLOW'],
  [0x80000006, 'STATUS_NO_MORE_FILES'],
  [0xc0000001, 'STATUS_UNSUCCESSFUL'],
  [0xc0000002, 'STATUS_NOT_IMPLEMENTED'],
  [0xc0000003, 'STATUS_INVALID_INFO_CLASS'],
  [0xc0000004, 'STATUS_INFO_LENGTH_MISMATCH'],
  [0xc0000008, 'STATUS_INVALID_HANDLE'],
  [0xc000000d, 'STATUS_INVALID_PARAMETER'],
  [0xc000000e, 'STATUS_NO_SUCH_DEVICE'],
  [0xc000000f, 'STATUS_NO_SUCH_FILE'],
  [0xc0000010, 'STATUS_INVALID_DEVICE_REQUEST'],
  [0xc0000011, 'STATUS_END_OF_FILE'],
  [0xc0000016, 'STATUS_MORE_PROCESSING_REQUIRED'],
  [0xc0000017, 'STATUS_NO_MEMORY'],
  [0xc0000022, 'STATUS_ACCESS_DENIED'],
  [0xc0000023, 'STATUS_BUFFER_TOO_SMALL'],
  [0xc0000033, 'STATUS_OBJECT_NAME_INVALID'],
  [0xc0000034, 'STATUS_OBJECT_NAME_NOT_FOUND'],
  [0xc0000035, 'STATUS_OBJECT_NAME_COLLISION'],
  [0xc000003a, 'STATUS_OBJECT_PATH_NOT_FOUND'],
  [0xc0000043, 'STATUS_SHARING_VIOLATION'],
  [0xc0000056, 'STATUS_DELETE_PENDING'],
  [0xc0000064, 'STATUS_NO_SUCH_USER'],
  [0xc000006a, 'STATUS_WRONG_PASSWORD'],
  [0xc000006d, 'STATUS_LOGON_FAILURE'],
  [0xc000006e, 'STATUS_ACCOUNT_RESTRICTION'],
  [0xc0000071, 'STATUS_PASSWORD_EXPIRED'],
  [0xc0000072, 'STATUS_ACCOUNT_DISABLED'],
  [0xc00000ac, 'STATUS_PIPE_NOT_AVAILABLE'],
  [0xc00000ad, 'STATUS_INVALID_PIPE_STATE'],
  [0xc00000ae, 'STATUS_PIPE_BUSY'],
  [0xc00000b0, 'STATUS_PIPE_DISCONNECTED'],
  [0xc00000b1, 'STATUS_PIPE_CLOSING'],
  [0xc00000b5, 'STATUS_IO_TIMEOUT'],
  [0xc00000ba, 'STATUS_FILE_IS_A_DIRECTORY'],
  [0xc00000bb, 'STATUS_NOT_SUPPORTED'],
  [0xc00000c3, 'STATUS_INVALID_NETWORK_RESPONSE'],
  [0xc00000c4, 'STATUS_UNEXPECTED_NETWORK_ERROR'],
  [0xc00000c9, 'STATUS_NETWORK_NAME_DELETED'],
  [0xc00000ca, 'STATUS_NETWORK_ACCESS_DENIED'],
  [0xc00000cb, 'STATUS_BAD_DEVICE_TYPE'],
  [0xc00000cc, 'STATUS_BAD_NETWORK_NAME'],
  [0xc00000ce, 'STATUS_TOO_MANY_SESSIONS'],
  [0xc00000d0, 'STATUS_REQUEST_NOT_ACCEPTED'],
  [0xc00000d9, 'STATUS_PIPE_EMPTY'],
  [0xc0000103, 'STATUS_NOT_A_DIRECTORY'],
  [0xc0000120, 'STATUS_CANCELLED'],
  [0xc0000128, 'STATUS_FILE_CLOSED'],
  [0xc000014b, 'STATUS_PIPE_BROKEN'],
  [0xc0000203, 'STATUS_USER_SESSION_DELETED'],
  [0xc0000205, 'STATUS_INSUFF_SERVER_RESOURCES'],
  [0xc0000225, 'STATUS_NOT_FOUND'],
]);

export interface SmbStatus {
  /** True when the status means success (NT severity not error/warning, or DOS class 0). */
  readonly ok: boolean;
  /** Name for people and the timeline: `STATUS_ACCESS_DENIED`, `ERRSRV/ERRmsgoff`. */
  readonly name: string;
  readonly nt: boolean;
}

/**
 * Interprets the 4 status bytes of an SMB1 header. `nt` is Flags2's NT-status bit. Samba's
 * DOS codes wrapped in an NT status (0xF1cc_eeee... form, class in bits 16–23) are shown as DOS.
 */
export function smbStatus(status: number, nt: boolean): SmbStatus {
  if (nt) {
    if (status >>> 24 === 0xf1) {
      const cls = (status >>> 16) & 0xff;
      const code = status & 0xffff;
      return { ok: cls === 0, name: dosErrorName(cls, code), nt };
    }
    const name = NT_STATUS.get(status >>> 0) ?? `NT status 0x${(status >>> 0).toString(16).padStart(8, '0')}`;
    // Severity bits 31–30: 00 success, 01 informational, 10 warning, 11 error (MS-ERREF 2.3).
    const severity = status >>> 30;
    return { ok: severity === 0 || severity === 1 || status >>> 0 === 0x80000005, name, nt };
  }
  const cls = status & 0xff;
  const code = (status >>> 16) & 0xffff;
  return { ok: cls === 0, name: cls === 0 && code === 0 ? 'SUCCESS' : dosErrorName(cls, code), nt };
}
