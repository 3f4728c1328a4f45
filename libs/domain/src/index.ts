export * from './ack';
export * from './deposit-points';
export * from './display-lines';
export * from './domain-error';
export * from './event-time';
export * from './judge-event';
