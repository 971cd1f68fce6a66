import { crashPointSuite } from './crashSuite.js';

/** The crash-point suite on the embedded runtime: in-process bus, SQLite ledger, local builder. */
crashPointSuite('embedded');
