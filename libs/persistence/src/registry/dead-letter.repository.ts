import type { PrismaClient } from '../generated/prisma/client';

export interface DeadLetterInput {
  topic: string;
  deviceId: string | null;
  clientId: string | null;
  payload: Uint8Array;
  reason: string;
  receivedAt: Date;
}

export interface DeadLetterRecord extends Omit<DeadLetterInput, 'payload'> {
  id: string;
  payloadBase64: string;
  payloadBytes: number;
  /** The payload as text when it is valid UTF-8, for an operator to read. */
  payloadText: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Messages the gateway could not turn into an ack: nothing is dropped without a record. */
export class DeadLetterRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async insertMany(letters: readonly DeadLetterInput[]): Promise<void> {
    if (letters.length === 0) return;
    await this.prisma.deadLetter.createMany({
      data: letters.map((l) => ({ ...l, payload: Buffer.from(l.payload) })),
    });
  }

  async list(options: { limit: number; deviceId?: string | undefined; beforeId?: string | undefined }): Promise<DeadLetterRecord[]> {
    const rows = await this.prisma.deadLetter.findMany({
      where: {
        ...(options.deviceId ? { deviceId: options.deviceId } : {}),
        ...(options.beforeId ? { id: { lt: BigInt(options.beforeId) } } : {}),
      },
      orderBy: { id: 'desc' },
      take: options.limit,
    });
    return rows.map((r) => {
      const payloadText = asText(r.payload);
      return {
        id: r.id.toString(),
        topic: r.topic,
        deviceId: r.deviceId,
        clientId: r.clientId,
        reason: r.reason,
        receivedAt: r.receivedAt,
        payloadBytes: r.payload.byteLength,
        payloadBase64: Buffer.from(r.payload).toString('base64'),
        payloadText,
      };
    });
  }
}
