export * from './database';
export * from './data-dir-lock';
export * from './ingest/ingest.repository';
export * from './registry/admin-token.repository';
export * from './registry/community.repository';
export * from './registry/dead-letter.repository';
export * from './registry/device.repository';
export * from './registry/resident.repository';
