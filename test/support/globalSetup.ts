import { startServices } from './services.js';

export default function globalSetup(): void {
  (globalThis as { __batonStarted?: string[] }).__batonStarted = startServices();
}
