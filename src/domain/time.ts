/** Instants cross the record boundary as ISO-8601 UTC strings. */
export const iso = (ms: number): string => new Date(ms).toISOString();
