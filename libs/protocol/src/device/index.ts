export * from './outbox';
export * from './file-outbox';
export * from './resend-policy';
export * from './sequence';
export * from './device-client';
