import type { FakeSlackMessage } from '../../standins/slackApi.js';

/** A Block Kit block, loosely: only the fields rendered here are read. */
type Block = { type?: string; text?: unknown; fields?: unknown[]; elements?: Array<{ text?: unknown }> };

const text = (value: unknown): string => (value && typeof value === 'object' && 'text' in value ? String((value as { text: unknown }).text) : '');

/** Renders a Block Kit message as plain text for the terminal, buttons included. */
export function renderSlackMessage(message: FakeSlackMessage): string {
  const lines: string[] = [`┌─ Slack #${message.channel} (ts ${message.ts})`];
  for (const block of message.blocks as Block[]) {
    switch (block.type) {
      case 'header':
        lines.push(`│ ${text(block.text).toUpperCase()}`);
        break;
      case 'section':
        if (block.text) lines.push(...text(block.text).split('\n').map((line) => `│ ${line}`));
        for (const field of block.fields ?? []) lines.push(...text(field).split('\n').map((line) => `│   ${line}`));
        break;
      case 'context':
        lines.push(`│ ${(block.elements ?? []).map(text).join('  ')}`);
        break;
      case 'actions':
        lines.push(`│ ${(block.elements ?? []).map((element) => `[ ${text(element.text)} ]`).join('  ')}`);
        break;
      case 'divider':
        lines.push('│ ────────');
        break;
      default:
        break;
    }
  }
  lines.push('└─');
  return lines.join('\n');
}
