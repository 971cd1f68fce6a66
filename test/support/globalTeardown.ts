import { stopServices } from './services.js';

export default function globalTeardown(): void {
  stopServices((globalThis as { __batonStarted?: string[] }).__batonStarted ?? []);
}
