/**
 * Google's client libraries, when a process has no Application Default Credentials, reject the
 * call and also leave a second rejection of the same error unhandled inside google-gax
 * (googleapis/google-cloud-node#9085; Firestore leaves only that one). Node ends a process on an
 * unhandled rejection, so `baton runs` without a `gcloud auth application-default login` died
 * with google-auth-library's stack trace, and a stage could take its instance down with it. Every
 * lazy SDK loader asks here first: without credentials it gets one clear error, and the SDK is
 * never called. Against an emulator no credentials are needed, and none are looked for.
 */
let found: Promise<void> | undefined;

export async function requireCredentials(service: string, emulatorVariable?: string): Promise<void> {
  if (emulatorVariable && process.env[emulatorVariable]) return;
  // Found once per process, as the SDKs cache them; a failure is looked for again next time.
  found ??= import('google-auth-library')
    .then(async ({ GoogleAuth }) => void (await new GoogleAuth().getClient()))
    .catch((error: unknown) => {
      found = undefined;
      throw error;
    });
  try {
    await found;
  } catch (error) {
    const reason = (error as Error).message.split('. ')[0];
    const emulator = emulatorVariable ? `, or set ${emulatorVariable} to use the emulator` : '';
    throw new Error(`no Google Cloud credentials for ${service} (${reason}): run \`gcloud auth application-default login\`, or run as a service account${emulator}`);
  }
}
