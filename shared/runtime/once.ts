/** Builds something on first use and reuses it; a failed build is tried again next time. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build();
    value.catch(() => (value = undefined));
    return value;
  };
}
