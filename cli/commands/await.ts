import type { Command } from 'commander';

/** Placeholder: registers nothing until this command lands. */
export function register(_program: Command): void {}
