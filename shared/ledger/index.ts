export * from './docStore.js';
export * from './runLedger.js';
export { SqliteDocStore } from './sqliteDocStore.js';
export { FirestoreDocStore } from './firestoreDocStore.js';
