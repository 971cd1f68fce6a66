import { createLogger, setLogSink } from '../../shared/log/logger.js';
import { redact, redactedError, registerSecrets } from '../../shared/log/redact.js';

describe('redaction', () => {
  test.each([
    ['a token in a git URL', 'fatal: unable to access https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz0123@github.com/acme/shop.git/', 'ghs_abc'],
    ['oauth2accesstoken userinfo', 'push to https://oauth2accesstoken:ya29.a0AfB_secret@europe-west1-docker.pkg.dev/v2/', 'ya29'],
    ['a bearer header', 'http.extraHeader=Authorization: Bearer ya29.c.b0AXv0zTsecret', 'ya29'],
    ['a Slack token', 'token xoxb-123456789012-abcdefghijkl', 'xoxb-123'],
    ['a token query parameter', 'POST https://jenkins.example/buildByToken/buildWithParameters?job=shop&token=s3cr3t-trigger&RUN_ID=1', 's3cr3t'],
  ])('removes %s', (_name, text, secret) => {
    expect(redact(text)).not.toContain(secret);
  });

  test('registered secret values are masked wherever they appear, in messages and fields', () => {
    registerSecrets('first-webhook-secret,second-webhook-secret');
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    createLogger({ stage: 'intake', runId: 'shop-1-abc' }).error('failed with first-webhook-secret', {
      detail: { nested: ['second-webhook-secret'] },
      error: redactedError('failed to push', new Error('remote said second-webhook-secret')),
    });
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ severity: 'ERROR', stage: 'intake', runId: 'shop-1-abc', component: 'baton' });
    expect(lines[0]).not.toMatch(/first-webhook-secret|second-webhook-secret/);
    expect(entry.error).toBe('failed to push: remote said ***');
  });
});
