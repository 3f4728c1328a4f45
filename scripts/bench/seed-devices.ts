import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { openDatabase } from '../../libs/persistence/src/database';

export interface SeededDevices {
  communityId: string;
  ids: string[];
  /** One password for all of them: they are load, not residents' bins. */
  password: string;
}

/**
 * Writes `count` registered bin devices straight into the database the gateway
 * is about to open (its embedded directory, or its PostgreSQL schema), in one
 * statement. Registering 10,000 through the API would hash 10,000 passwords
 * with argon2id at its production cost (~35 ms of CPU each, 6 minutes), and
 * every first connect verifies one as well. These rows carry one argon2id hash
 * made at the lowest cost (1 MiB, 1 pass): the same code checks it, quickly.
 * The production cost of a 10,000-device reconnect is reported, not hidden:
 * see README, "From one box to a district".
 */
export async function seedHeartbeatDevices(target: { dataDir: string; databaseUrl?: string }, count: number): Promise<SeededDevices> {
  const password = randomBytes(18).toString('base64url');
  const passwordHash = await hash(password, { memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const db = await openDatabase({ dataDir: target.dataDir, databaseUrl: target.databaseUrl, poolSize: 1 });
  try {
    const [community] = await db.transaction((q) =>
      q<{ id: string }>(
        `INSERT INTO community (id, name, deposit_points_per_unit) VALUES (gen_random_uuid(), $1::text, $2::jsonb) RETURNING id::text AS id`,
        ['心跳社区 heartbeat fleet', JSON.stringify({ alkaline: 1, lithium: 3 })],
      ),
    );
    const rows = await db.transaction((q) =>
      q<{ id: string }>(
        `INSERT INTO device (id, kind, community_id, password_hash)
         SELECT 'hb-' || lpad(g::text, 6, '0'), 'bin', $1::uuid, $2::text FROM generate_series(0, $3::integer - 1) AS g
         RETURNING id`,
        [community!.id, passwordHash, String(count)],
      ),
    );
    return { communityId: community!.id, ids: rows.map((r) => r.id).sort(), password };
  } finally {
    await db.close();
  }
}
