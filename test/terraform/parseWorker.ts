/**
 * Parses HCL files in a child process: reads [{ name, text }] as JSON on stdin and
 * writes [{ name, body } | { name, error }] to stdout, then exits. hcl2json runs Go
 * compiled to WebAssembly, whose runtime keeps timers alive; in a short-lived child
 * they cannot keep a jest worker from exiting.
 */
import { parse } from '@cdktf/hcl2json';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const files = JSON.parse(await readStdin()) as Array<{ name: string; text: string }>;
const results: Array<{ name: string; body?: unknown; error?: string }> = [];
for (const f of files) {
  try {
    results.push({ name: f.name, body: await parse(f.name, f.text) });
  } catch (error) {
    results.push({ name: f.name, error: String(error) });
  }
}
process.stdout.write(JSON.stringify(results), () => process.exit(0));
