/**
 * PN532 commands the edge bridge uses and the virtual PN532 answers (NXP UM0701-02
 * §7). A response's code is its command's code plus one.
 */
export const PN532_COMMAND = {
  getFirmwareVersion: 0x02,
  samConfiguration: 0x14,
  rfConfiguration: 0x32,
  inListPassiveTarget: 0x4a,
  inRelease: 0x52,
} as const;

/**
 * HSU wake-up (UM0701 §7.2.11 / PN532 user manual §6.3.2.3): 0x55 0x55 then zeros
 * long enough for the oscillator to start, sent right before the first command.
 */
export const HSU_WAKEUP = Buffer.from([0x55, 0x55, ...new Array<number>(14).fill(0x00)]);

/** SAMConfiguration, normal mode (no SAM), virtual-card timeout 1 s (0x14 × 50 ms), IRQ used (§7.2.10). */
export function samConfigurationCommand(): Buffer {
  return Buffer.from([PN532_COMMAND.samConfiguration, 0x01, 0x14, 0x01]);
}

/**
 * RFConfiguration item 5, MaxRetries (§7.3.1): how many times InListPassiveTarget
 * tries to activate a target before answering "none". The default 0xFF retries for
 * ever, which would make an empty reader never answer a poll.
 */
export function maxRetriesCommand(passiveActivationRetries: number): Buffer {
  return Buffer.from([PN532_COMMAND.rfConfiguration, 0x05, 0xff, 0x01, passiveActivationRetries & 0xff]);
}

/** InListPassiveTarget for one ISO/IEC 14443 type A target at 106 kbps (BrTy 0x00, §7.3.5). */
export function inListPassiveTargetCommand(): Buffer {
  return Buffer.from([PN532_COMMAND.inListPassiveTarget, 0x01, 0x00]);
}

export interface TypeATarget {
  /** Logical target number the PN532 gave it (Tg). */
  tg: number;
  /** SENS_RES (ATQA), 2 bytes. */
  sensRes: number;
  /** SEL_RES (SAK). */
  selRes: number;
  /** NFCID1: 4, 7 or 10 bytes. */
  uid: Buffer;
  /** ATS, when the card is ISO/IEC 14443-4 (SAK bit 6). */
  ats?: Buffer;
}

export type ParsedTargets = { ok: true; targets: TypeATarget[] } | { ok: false; message: string };

/**
 * The data of an InListPassiveTarget response (after TFI D5): 4B NbTg, then per
 * target Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1 [ATS] (§7.3.5, 106 kbps type A).
 */
export function parseInListPassiveTargetResponse(data: Uint8Array): ParsedTargets {
  if (data.length < 2 || data[0] !== PN532_COMMAND.inListPassiveTarget + 1) {
    return { ok: false, message: `not an InListPassiveTarget response: ${Buffer.from(data).toString('hex')}` };
  }
  const count = data[1]!;
  const targets: TypeATarget[] = [];
  let i = 2;
  for (let t = 0; t < count; t++) {
    if (i + 5 > data.length) return { ok: false, message: `target ${t + 1} of ${count} is cut short` };
    const tg = data[i]!;
    const sensRes = (data[i + 1]! << 8) | data[i + 2]!;
    const selRes = data[i + 3]!;
    const uidLength = data[i + 4]!;
    if (uidLength !== 4 && uidLength !== 7 && uidLength !== 10)
      return { ok: false, message: `NFCID1 length ${uidLength} is not 4, 7 or 10` };
    i += 5;
    if (i + uidLength > data.length) return { ok: false, message: `NFCID1 of target ${t + 1} is cut short` };
    const uid = Buffer.from(data.subarray(i, i + uidLength));
    i += uidLength;
    const target: TypeATarget = { tg, sensRes, selRes, uid };
    if (selRes & 0x20 && i < data.length) {
      // ATS: its first byte (TL) is its own length, the length byte included.
      const atsLength = data[i]!;
      if (atsLength < 1 || i + atsLength > data.length) return { ok: false, message: `ATS of target ${t + 1} is cut short` };
      target.ats = Buffer.from(data.subarray(i, i + atsLength));
      i += atsLength;
    }
    targets.push(target);
  }
  return { ok: true, targets };
}

/** The response the virtual PN532 sends: what a real module answers for these targets. */
export function inListPassiveTargetResponse(targets: readonly TypeATarget[]): Buffer {
  const parts: number[] = [PN532_COMMAND.inListPassiveTarget + 1, targets.length];
  for (const t of targets) {
    parts.push(t.tg, (t.sensRes >> 8) & 0xff, t.sensRes & 0xff, t.selRes, t.uid.length, ...t.uid);
    if (t.ats) parts.push(...t.ats);
  }
  return Buffer.from(parts);
}

/** Card UID as the protocol writes it: upper-case hex. */
export function uidHex(uid: Uint8Array): string {
  return Buffer.from(uid).toString('hex').toUpperCase();
}
